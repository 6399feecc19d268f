"""chainrule.numpy's non-differentiable surface: NumPy's dtype utilities, printing, integer and
bitwise operations and index helpers answer on values: plain arrays, Tensors (that require grad
or not), inside a transform, and under vmap once per example (or a BatchingError where a result
cannot stack). Then the errors of a missing name: AttributeError with the closest names, and
NumPy dispatch's message saying whether a name is refused (and why), planned, or in
chainrule.scipy."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import BatchingError, UnsupportedFunctionError
from chainrule.numpy import _refused

PASSED = cnp._PASSED_THROUGH

X = np.array([0.7, -1.5, 2.0, 0.2])
Y = np.array([0.5, -1.5, 3.0, 0.1])
SQUARE = np.arange(9.0).reshape(3, 3)
INTS = np.array([12, 7, 30, 5])
BYTES = np.array([3, 250, 17], dtype=np.uint8)
INFINITIES = np.array([np.inf, -np.inf, 1.0, -2.0])
BITS = np.array([1, 0, 1, 1, 0, 0, 0, 1, 1], dtype=bool)

# name -> (args, kwargs): the first argument is the one batched by vmap (examples must give
# results of one shape); the rest are passed unbatched.
VALUE_CALLS = {
    "allclose": ((X, Y), {}),
    "isclose": ((X, Y), {}),
    "array_equal": ((X, Y), {}),
    "array_equiv": ((X, Y), {}),
    "iscomplex": ((X,), {}),
    "isreal": ((X,), {}),
    "signbit": ((X,), {}),
    "isneginf": ((INFINITIES,), {}),
    "isposinf": ((INFINITIES,), {}),
    "isin": ((X, [2.0, 0.2]), {}),
    "bitwise_and": ((INTS, 6), {}),
    "bitwise_or": ((INTS, 6), {}),
    "bitwise_xor": ((INTS, 6), {}),
    "bitwise_not": ((INTS,), {}),
    "bitwise_invert": ((INTS,), {}),
    "invert": ((INTS,), {}),
    "bitwise_count": ((INTS,), {}),
    "left_shift": ((INTS, 2), {}),
    "right_shift": ((INTS, 1), {}),
    "bitwise_left_shift": ((INTS, 2), {}),
    "bitwise_right_shift": ((INTS, 1), {}),
    "gcd": ((INTS, 18), {}),
    "lcm": ((INTS, 4), {}),
    "packbits": ((BITS,), {}),
    "unpackbits": ((BYTES,), {}),
    "searchsorted": ((np.sort(X), Y), {}),
    "digitize": ((X, [-1.0, 0.5, 1.0]), {}),
    "argwhere": ((X,), {}),
    "flatnonzero": ((X,), {}),
    "argpartition": ((X, 1), {}),
    "lexsort": ((np.stack([X, Y]),), {}),
    "nanargmax": ((X,), {}),
    "nanargmin": ((X,), {}),
    "tril_indices_from": ((SQUARE,), {}),
    "triu_indices_from": ((SQUARE,), {"k": 1}),
    "diag_indices_from": ((SQUARE,), {}),
    "unravel_index": ((INTS, (6, 6)), {}),
    "ravel_multi_index": ((np.array([[1, 2], [0, 3]]), (4, 5)), {}),
}

AVAL_CALLS = {
    "can_cast": ((X, np.float32), {}),
    "min_scalar_type": ((X,), {}),
    "iscomplexobj": ((X,), {}),
    "isrealobj": ((X,), {}),
    "einsum_path": (("ij,jk->ik", SQUARE, SQUARE), {}),
}

ONCE_CALLS = {
    "array2string": ((X,), {"precision": 2}),
    "array_repr": ((X,), {}),
    "array_str": ((X,), {}),
}

# The names issue 14 lists among the non-differentiable surface (a few are composites now).
ISSUE_NAMES = """
can_cast promote_types result_type iinfo finfo issubdtype isdtype dtype bool bool_ int8 int16
int32 int64 uint8 float16 float32 float64 complex64 complex128 isscalar ndim shape size
set_printoptions printoptions get_printoptions array2string array_repr array_str bitwise_and
bitwise_or bitwise_xor bitwise_not invert left_shift right_shift gcd lcm tril_indices
triu_indices diag_indices indices ix_ unravel_index ravel_multi_index searchsorted digitize
argwhere flatnonzero unique unique_values unique_counts unique_inverse unique_all bincount
histogram histogram_bin_edges pi e inf nan newaxis euler_gamma
""".split()


def _plain(value):
    """A result as plain NumPy: Tensors read out, tuples (namedtuples) part by part."""
    if isinstance(value, tuple):
        return tuple(_plain(part) for part in value)
    if isinstance(value, cr.Tensor):
        return value.detach().numpy()
    return value


def _assert_same(ours, expected):
    ours, expected = _plain(ours), _plain(expected)
    if isinstance(expected, (tuple, list)):
        assert len(ours) == len(expected)
        for got, want in zip(ours, expected):
            _assert_same(got, want)
        return
    np.testing.assert_array_equal(ours, expected)
    assert np.asarray(ours).dtype == np.asarray(expected).dtype


def _as_tensor(value):
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return cr.tensor(value, requires_grad=value.dtype.kind == "f")
    return value


def test_the_issue_names_exist():
    missing = [name for name in ISSUE_NAMES if not hasattr(cnp, name)]
    assert not missing, f"not in chainrule.numpy: {missing}"


def test_every_group_of_the_table_is_tested_here():
    tested = {*VALUE_CALLS, *AVAL_CALLS, *ONCE_CALLS, "save", "savez", "savez_compressed"}
    untested = sorted(n for n, group in PASSED.items() if group != "as is" and n not in tested)
    assert not untested, f"pass-through functions without a call in this file: {untested}"


@pytest.mark.parametrize("name", sorted(n for n, g in PASSED.items() if g == "as is"))
def test_as_is_names_are_numpys_own(name):
    # functions come wrapped, so that NumPy's failures surface as chainrule's errors
    ours = getattr(cnp, name)
    assert getattr(ours, "__explained__", False) or ours is getattr(np, name)
    assert getattr(ours, "__wrapped__", ours) is getattr(np, name)
    assert name in cnp.__all__


@pytest.mark.parametrize("name", sorted({*VALUE_CALLS, *AVAL_CALLS, *ONCE_CALLS}))
def test_answers_as_numpy_on_arrays_and_on_tensors(name):
    args, kwargs = {**VALUE_CALLS, **AVAL_CALLS, **ONCE_CALLS}[name]
    expected = getattr(np, name)(*args, **kwargs)
    _assert_same(getattr(cnp, name)(*args, **kwargs), expected)
    _assert_same(getattr(cnp, name)(*map(_as_tensor, args), **kwargs), expected)


@pytest.mark.parametrize("name", sorted({*VALUE_CALLS, *AVAL_CALLS, *ONCE_CALLS}))
def test_answers_on_values_inside_a_transform(name):
    args, kwargs = {**VALUE_CALLS, **AVAL_CALLS, **ONCE_CALLS}[name]
    seen = []

    def loss(scale):
        traced = [a * scale if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
                  for a in args]
        seen.append(getattr(cnp, name)(*traced, **kwargs))
        return scale * scale

    cr.grad(loss)(1.0)
    _assert_same(seen[0], getattr(np, name)(*args, **kwargs))


def _examples(first):
    """Three examples of a first argument, each giving results of one shape."""
    if first.dtype.kind == "f":
        return [first, first * 1.25, first[::-1].copy()]
    return [first, first[::-1].copy(), first]


@pytest.mark.parametrize("name", sorted(VALUE_CALLS))
def test_runs_once_per_example_under_vmap(name):
    (first, *rest), kwargs = VALUE_CALLS[name]
    examples = _examples(np.asarray(first))
    function = getattr(cnp, name)
    batched = cr.vmap(lambda example: function(example, *rest, **kwargs))(np.stack(examples))
    looped = [getattr(np, name)(e, *rest, **kwargs) for e in examples]
    if isinstance(looped[0], tuple):
        expected = tuple(np.stack(parts) for parts in zip(*looped))
    else:
        expected = np.stack(looped)
    _assert_same(batched, expected)


def test_results_of_different_sizes_per_example_raise_a_batching_error():
    with pytest.raises(BatchingError, match="argwhere.*different shape"):
        cr.vmap(cnp.argwhere)(np.array([[1.0, 0.0], [1.0, 1.0]]))


@pytest.mark.parametrize("name", sorted(AVAL_CALLS))
def test_shape_and_dtype_questions_answer_the_same_under_vmap(name):
    args, kwargs = AVAL_CALLS[name]
    position = 1 if name == "einsum_path" else 0
    stacked = np.stack([args[position]] * 2)

    def one(example):
        return getattr(cnp, name)(*args[:position], example, *args[position + 1:], **kwargs)

    seen = []
    cr.vmap(lambda e: (seen.append(one(e)), cnp.sum(e))[1])(stacked)
    expected = getattr(np, name)(*args, **kwargs)
    assert seen[0] == expected if name != "einsum_path" else seen[0][0] == expected[0]


@pytest.mark.parametrize("name", sorted(ONCE_CALLS))
def test_strings_are_refused_under_vmap(name):
    (first,), kwargs = ONCE_CALLS[name]
    with pytest.raises(BatchingError, match=rf"cnp\.{name} under cr\.vmap.*outside the vmapped"):
        cr.vmap(lambda e: getattr(cnp, name)(e, **kwargs))(np.stack([first, first]))


@pytest.mark.parametrize("name", ["save", "savez", "savez_compressed"])
def test_saving_a_tensor_writes_its_value(name, tmp_path):
    path = tmp_path / ("x.npy" if name == "save" else "x.npz")
    getattr(cnp, name)(path, cr.tensor(X, requires_grad=True))
    loaded = np.load(path)
    np.testing.assert_array_equal(loaded if name == "save" else loaded["arr_0"], X)
    with pytest.raises(BatchingError, match="outside the vmapped"):
        cr.vmap(lambda e: getattr(cnp, name)(path, e))(np.stack([X, X]))


DISPATCHED = sorted(
    name for name in VALUE_CALLS
    if isinstance(getattr(np, name), np.ufunc) or hasattr(getattr(np, name), "_implementation")
)


@pytest.mark.parametrize("name", DISPATCHED)
def test_numpys_own_function_answers_on_a_tensor_that_requires_grad(name):
    args, kwargs = VALUE_CALLS[name]
    tensors = [_as_tensor(a) for a in args]
    _assert_same(getattr(np, name)(*tensors, **kwargs), getattr(np, name)(*args, **kwargs))


def test_can_cast_and_result_type_read_a_tensors_dtype():
    x = cr.tensor(X.astype(np.float32), requires_grad=True)
    assert np.can_cast(x, np.float64) and not np.can_cast(x, np.int32)
    assert cnp.result_type(x, 1.0) == np.float32
    assert cnp.iscomplexobj(x + 1j) and cnp.isrealobj(x)


# ----- a missing name ----------------------------------------------------------------------------
def test_unknown_name_raises_attribute_error_with_the_closest_names():
    with pytest.raises(AttributeError, match=r"no attribute 'sinn'.*cnp\.sin\b"):
        cnp.sinn  # noqa: B018
    with pytest.raises(AttributeError, match="NumPy has no function of that name either"):
        cnp.nosuchfunction  # noqa: B018
    assert not hasattr(cnp, "nosuchfunction")


def test_python_probes_of_dunder_names_get_a_plain_attribute_error():
    with pytest.raises(AttributeError, match=r"^module 'chainrule.numpy' has no attribute"):
        cnp.__wrapped__  # noqa: B018


@pytest.mark.parametrize("name", sorted(_refused.REFUSED))
def test_refused_names_say_why(name):
    assert _refused._numpy_object(name) is not None, "the table names NumPy's functions"
    assert _refused.REFUSED[name] in _refused.status_of(name)
    if name not in cnp.__all__:  # else chainrule.numpy has the form that returns a new array
        with pytest.raises(AttributeError, match=rf"refuses numpy\.{name}: "):
            getattr(cnp, name)


def test_a_numpy_name_not_written_yet_is_planned(monkeypatch):
    monkeypatch.delattr(cnp, "sin")
    with pytest.raises(AttributeError, match=r"numpy\.sin is planned for chainrule\.numpy"):
        cnp.sin  # noqa: B018
    assert "planned" in _refused.status_of("linalg.lstsq")


def test_a_name_at_home_in_chainrule_scipy_points_there(monkeypatch):
    import chainrule.scipy.special as special

    monkeypatch.setattr(special, "__all__", [*special.__all__, "erfcx"])
    assert _refused.status_of("erfcx") == "It is available as chainrule.scipy.special.erfcx."


# ----- NumPy dispatch's message ------------------------------------------------------------------
def test_dispatch_of_an_in_place_function_says_it_is_refused_and_why():
    x = cr.tensor(X, requires_grad=True)
    with pytest.raises(UnsupportedFunctionError, match=r"put.* in place"):
        np.put(x, [0], [1.0])
    with pytest.raises(UnsupportedFunctionError, match=r"copyto.* in place"):
        np.copyto(np.zeros(4), x)
    assert "refuses numpy.put: it writes" in _refused.dispatch_status("put")


def test_dispatch_of_a_ufunc_method_names_the_chainrule_spelling():
    x = cr.tensor(X, requires_grad=True)
    with pytest.raises(UnsupportedFunctionError, match=r"numpy\.add\.accumulate.*cnp\.cumsum"):
        np.add.accumulate(x)


def test_dispatch_of_a_function_chainrule_numpy_records_points_to_it():
    assert _refused.dispatch_status("sum") == "Call chainrule.numpy.sum, which records it."
    assert "NumPy has no function" in _refused.dispatch_status("nosuchfunction")
