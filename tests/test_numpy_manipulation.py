"""chainrule.numpy's array manipulation and creation beyond the composite sweep
(tests/composites/manipulation.py checks values, both modes, second order and vmap): errors
as NumPy raises them, the r_/c_ index tricks, dtypes kept, functions whose results carry no
derivative or are written in place, value-dependent shapes under vmap, and derivatives with
closed forms through the Tensor API."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import (
    BatchingError,
    ChainruleError,
    InputTypeError,
    UnsupportedFunctionError,
)

RNG = np.random.default_rng(7)
V = RNG.uniform(-2.0, 2.0, 5)
M = RNG.uniform(-2.0, 2.0, (3, 4))
T = RNG.uniform(-2.0, 2.0, (2, 3, 4))
INTS = np.arange(12).reshape(3, 4)
CHOICE = np.array([[0, 1, 2, 1], [2, 2, 0, 0], [1, 0, 1, 2]])


def tensor(value, requires_grad=False):
    return cr.tensor(value, requires_grad=requires_grad)


def plain(value):
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value.numpy() if isinstance(value, cr.Tensor) else np.asarray(value)


# ----- errors: where NumPy raises, so do we, with the same built-in class -----------------------
ERRORS = [
    ("diff negative order", lambda m, x: m.diff(x, -1), V),
    ("diff of 0-d", lambda m, x: m.diff(x), np.array(1.0)),
    ("diff axis out of range", lambda m, x: m.diff(x, axis=2), M),
    ("ediff1d to_begin of another kind", lambda m, x: m.ediff1d(x, to_begin=0.5), INTS),
    ("gradient of too few points", lambda m, x: m.gradient(x), V[:1]),
    ("gradient edge_order 3", lambda m, x: m.gradient(x, edge_order=3), V),
    ("gradient with too many spacings", lambda m, x: m.gradient(x, 1.0, 2.0, 3.0), M),
    ("gradient coordinates of a wrong length", lambda m, x: m.gradient(x, [1.0, 2.0]), V),
    ("gradient 2-d coordinates", lambda m, x: m.gradient(x, M), V),
    ("rot90 of 1-d", lambda m, x: m.rot90(x), V),
    ("rot90 on one axis twice", lambda m, x: m.rot90(x, axes=(0, 0)), M),
    ("rot90 with three axes", lambda m, x: m.rot90(x, axes=(0, 1, 2)), T),
    ("rot90 axes out of range", lambda m, x: m.rot90(x, axes=(0, 3)), T),
    ("append along a mismatched axis", lambda m, x: m.append(x, V, axis=0), M),
    ("insert out of bounds", lambda m, x: m.insert(x, 9, 1.0), V),
    ("insert a 2-d index", lambda m, x: m.insert(x, [[1]], 1.0), V),
    ("delete out of bounds", lambda m, x: m.delete(x, 9), V),
    ("delete with a short mask", lambda m, x: m.delete(x, [True, False]), V),
    ("block with mismatched depths", lambda m, x: m.block([x, [x]]), V),
    ("block of an empty list", lambda m, x: m.block([x, []]), V),
    ("block of a tuple", lambda m, x: m.block((x, x)), V),
    ("hstack of nothing", lambda m, x: m.hstack([]), V),
    ("stack axis out of range", lambda m, x: m.stack([x, x], axis=3), V),
    ("rollaxis start out of range", lambda m, x: m.rollaxis(x, 0, 5), T),
    ("moveaxis repeated source", lambda m, x: m.moveaxis(x, [0, 0], [1, 2]), T),
    ("moveaxis unmatched destination", lambda m, x: m.moveaxis(x, [0, 1], [1]), T),
    ("transpose axis out of range", lambda m, x: m.transpose(x, (0, 5)), M),
    ("transpose repeated axis", lambda m, x: m.transpose(x, (0, 0)), M),
    ("permute_dims too few axes", lambda m, x: m.permute_dims(x, (1, 0)), T),
    ("matrix_transpose of 1-d", lambda m, x: m.matrix_transpose(x), V),
    ("split into unequal parts", lambda m, x: m.split(x, 2), V),
    ("array_split into 0 parts", lambda m, x: m.array_split(x, 0), V),
    ("hsplit of 0-d", lambda m, x: m.hsplit(x, 1), np.array(1.0)),
    ("vsplit of 1-d", lambda m, x: m.vsplit(x, 1), V),
    ("dsplit of 2-d", lambda m, x: m.dsplit(x, 1), M),
    ("unstack of 0-d", lambda m, x: m.unstack(x), np.array(1.0)),
    ("fliplr of 1-d", lambda m, x: m.fliplr(x), V),
    ("flipud of 0-d", lambda m, x: m.flipud(x), np.array(1.0)),
    ("repeat with too many counts", lambda m, x: m.repeat(x, [1, 2]), V),
    ("resize to a negative shape", lambda m, x: m.resize(x, (-1, 2)), V),
    ("trim_zeros with an unknown side", lambda m, x: m.trim_zeros(x, "x"), V),
    ("pad an empty axis by its edge", lambda m, x: m.pad(x, 1, mode="edge"), np.zeros(0)),
    ("pad with an unknown mode", lambda m, x: m.pad(x, 1, mode="nope"), V),
    ("pad with another mode's option", lambda m, x: m.pad(x, 1, "mean", end_values=1), V),
    ("pad by the maximum of nothing", lambda m, x: m.pad(x, 1, "maximum", stat_length=0), V),
    ("concatenate to ints from floats", lambda m, x: m.concatenate([x, x], dtype=int), V),
    ("stack to ints from floats", lambda m, x: m.stack([x, x], dtype=int), V),
    ("linspace of -1 samples", lambda m, x: m.linspace(x, 1.0, -1), np.array(0.0)),
    ("linspace axis out of range", lambda m, x: m.linspace(x, 1.0, 3, axis=2), V),
    ("geomspace through zero", lambda m, x: m.geomspace(x, 3.0, 4), np.array(0.0)),
    ("meshgrid with unknown indexing", lambda m, x: m.meshgrid(x, indexing="x"), V),
    ("vander of 2-d", lambda m, x: m.vander(x), M),
    ("select of non-boolean conditions", lambda m, x: m.select([INTS], [x]), M),
    ("select with more cases than conditions", lambda m, x: m.select([M > 0], [x, x]), M),
    ("select with no conditions", lambda m, x: m.select([], []), M),
    ("choose by floats", lambda m, x: m.choose(x, [x]), M),
    ("choose out of range", lambda m, x: m.choose(CHOICE, [x, x]), M),
    ("choose with an unknown mode", lambda m, x: m.choose(CHOICE, [x, x, x], mode="x"), M),
    ("piecewise with too many functions", lambda m, x: m.piecewise(x, [x > 0], [1, 2, 3]), V),
    ("compress with a long condition", lambda m, x: m.compress([1, 1, 1, 1], x, axis=0), M),
    ("take out of bounds", lambda m, x: m.take(x, [7]), V),
    ("take_along_axis by floats", lambda m, x: m.take_along_axis(x, np.zeros((3, 1)), 1), M),
    ("take_along_axis with fewer dimensions",
     lambda m, x: m.take_along_axis(x, np.zeros(3, int), 1), M),
]


@pytest.mark.parametrize(("label", "call", "value"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_numpys_builtin_class_and_name_the_function(label, call, value):
    with pytest.raises(Exception) as numpy_error:
        call(np, value)
    builtin = [c for c in (IndexError, TypeError, ValueError) if isinstance(numpy_error.value, c)]
    for argument in (value, tensor(value)):
        with pytest.raises(ChainruleError) as ours:
            call(cnp, argument)
        assert any(isinstance(ours.value, c) for c in builtin), (ours.value, numpy_error.value)
        function = label.split()[0]
        assert function in str(ours.value) or "r_" in str(ours.value), str(ours.value)


# ----- r_ and c_ ----------------------------------------------------------------------------------
INDEX_TRICKS = [
    ("arrays, numbers, a range", lambda m, x: m.r_[x, 0.5, 1:3, [7.0]]),
    ("a complex step is linspace", lambda m, x: m.r_[0:1:5j, x]),
    ("ints stay ints", lambda m, x: m.r_[1:4, 7]),
    ("a 0-d array", lambda m, x: m.r_[x[0], 3]),
    ("axis,ndmin directive", lambda m, x: m.r_["0,2", x, x]),
    ("axis,ndmin,trans1d directive", lambda m, x: m.r_["0,2,0", x, x]),
    ("trans1d -1 on 3 dims", lambda m, x: m.r_["1,3,-1", x[:4].reshape(2, 2), x[:4].reshape(2, 2)]),
    ("axis directive", lambda m, x: m.r_["-1", x[:4].reshape(2, 2), x[:2].reshape(2, 1)]),
    ("c_ of 1-d arrays", lambda m, x: m.c_[x, 2.0 * x]),
    ("c_ of a range and an array", lambda m, x: m.c_[0:5, x]),
    ("c_ of numbers", lambda m, x: m.c_[x[0], 2.0]),
    ("float32 with a Python number", lambda m, x: m.r_[x.astype(np.float32), 1.0]),
]


@pytest.mark.parametrize(("label", "call"), INDEX_TRICKS, ids=[i[0] for i in INDEX_TRICKS])
def test_index_tricks_build_what_numpys_build(label, call):
    expected = call(np, V)
    for argument in (V, tensor(V)):
        ours = plain(call(cnp, argument))
        np.testing.assert_allclose(ours, expected, rtol=1e-12)
        assert ours.shape == expected.shape and ours.dtype == expected.dtype


def test_r_records_its_arrays_and_linspace_endpoints():
    def joined(x, end):
        return cnp.sum(cnp.r_[x, 2.0 * x, 0.0 : end : 4j] ** 2)

    assert cr.gradcheck(joined, V, np.array(1.5))
    x = tensor(V, requires_grad=True)
    cnp.sum(cnp.c_[x, 3.0 * x]).backward()
    np.testing.assert_allclose(x.grad, np.full(5, 4.0))


def test_index_tricks_refuse_matrices_and_misplaced_directives():
    for key in ("r", "c"):
        with pytest.raises(UnsupportedFunctionError, match="np.matrix"):
            cnp.r_[key, V]
    with pytest.raises(UnsupportedFunctionError, match="np.matrix"):
        cnp.r_["1 2; 3 4"]
    with pytest.raises(ValueError, match="first entry"):
        cnp.r_[V, "0"]
    with pytest.raises(ValueError, match="unknown special directive"):
        cnp.r_["a", V]
    assert len(cnp.r_) == 0 and len(cnp.c_) == 0


# ----- dtypes ------------------------------------------------------------------------------------
F32 = M.astype(np.float32)
DTYPES = [
    ("diff", lambda m, x: m.diff(x)),
    ("diff of booleans", lambda m, x: m.diff(x > 0)),
    ("diff of ints", lambda m, x: m.diff(x.astype(np.int32))),
    ("ediff1d with to_end", lambda m, x: m.ediff1d(x, to_end=1)),
    ("gradient", lambda m, x: m.gradient(x, axis=0)),
    ("gradient of ints is float64", lambda m, x: m.gradient(x.astype(np.int64), axis=1)),
    ("kron", lambda m, x: m.kron(x, x)),
    ("kron of ints", lambda m, x: m.kron(x.astype(np.int16), x.astype(np.int16))),
    ("rot90", lambda m, x: m.rot90(x)),
    ("insert a float64 into float32", lambda m, x: m.insert(x, 1, np.float64(2.5), axis=1)),
    ("insert a float into ints", lambda m, x: m.insert(x.astype(np.int64), 1, 2.7)),
    ("delete", lambda m, x: m.delete(x, 1, axis=0)),
    ("append float64", lambda m, x: m.append(x, np.ones(2))),
    ("block", lambda m, x: m.block([[x, x]])),
    ("dstack", lambda m, x: m.dstack([x, x])),
    ("resize", lambda m, x: m.resize(x, (5, 5))),
    ("vander of float32 is float64", lambda m, x: m.vander(x[0])),
    ("vander of ints", lambda m, x: m.vander(x[0].astype(np.int8), 3)),
    ("vander of booleans", lambda m, x: m.vander(x[0] > 0, 3)),
    ("linspace", lambda m, x: m.linspace(x[0, 0], 1.0, 5)),
    ("linspace to ints", lambda m, x: m.linspace(x[0, 0], 10.0, 7, dtype=int)),
    ("linspace of ints", lambda m, x: m.linspace(x.astype(np.int64)[0, 0], 3, 4)),
    ("logspace float32", lambda m, x: m.logspace(x[0, 0], 1.0, 3, dtype=np.float32)),
    ("geomspace is float64", lambda m, x: m.geomspace(abs(x[0, 0]), 8.0, 4)),
    ("geomspace of ints", lambda m, x: m.geomspace(x.astype(np.int64)[0, 0] * 0 + 1, 1000, 4)),
    ("select with a Python default", lambda m, x: m.select([x > 0], [x], 1.5)),
    ("select of ints", lambda m, x: m.select([x > 0], [x.astype(np.int64)])),
    ("choose", lambda m, x: m.choose(CHOICE, [x, x, x])),
    ("piecewise of ints", lambda m, x: m.piecewise(x.astype(np.int64), [x > 0],
                                                      [lambda v: 2.5 * v])),
    ("take", lambda m, x: m.take(x, [0, 2])),
    ("pad wrap", lambda m, x: m.pad(x, 1, mode="wrap")),
    ("meshgrid", lambda m, x: m.meshgrid(x[0], x[1])),
]


@pytest.mark.parametrize(("label", "call"), DTYPES, ids=[d[0] for d in DTYPES])
def test_results_have_numpys_dtype(label, call):
    expected = call(np, F32)
    ours = plain(call(cnp, tensor(F32)))
    for got, want in zip(*(v if isinstance(v, tuple) else (v,) for v in (ours, expected)),
                         strict=True):
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        np.testing.assert_allclose(got, want, rtol=1e-6)


# ----- containers and non-differentiable results ---------------------------------------------
def test_containers_are_numpys():
    x = tensor(M)
    assert type(cnp.broadcast_arrays(x, V[:4])) is tuple
    assert type(cnp.split(x, 2, axis=1)) is list
    assert type(cnp.unstack(x)) is tuple and len(cnp.unstack(x)) == 3
    assert type(cnp.gradient(x)) is tuple and not isinstance(cnp.gradient(V), tuple)
    assert type(cnp.meshgrid(x[0], x[1])) is tuple
    assert type(cnp.atleast_1d(x, 1.0)) is tuple
    assert isinstance(cnp.atleast_1d([1, 2]), np.ndarray)  # NumPy's answer on a list
    assert cnp.trim_zeros([0, 1, 0]) == [1]  # lists stay lists, as NumPy's do


def test_tri_and_index_helpers_are_plain_integer_arrays():
    np.testing.assert_array_equal(cnp.tri(3, 4, 1), np.tri(3, 4, 1))
    assert cnp.tri(2, dtype=int).dtype == np.dtype(int)
    x = tensor(M, requires_grad=True)
    rows, cols = cnp.triu_indices_from(x[:3, :3])
    np.testing.assert_array_equal(rows, np.triu_indices(3)[0])
    np.testing.assert_allclose(plain(x[cnp.tril_indices(3, -1)]), M[np.tril_indices(3, -1)])


def test_in_place_writers_follow_numpy_on_numpy_arrays():
    out = M.copy()
    assert cnp.put_along_axis(out, CHOICE[:, :2], 9.0, 1) is None
    expected = M.copy()
    np.put_along_axis(expected, CHOICE[:, :2], 9.0, 1)
    np.testing.assert_array_equal(out, expected)
    for ours, numpys, args in [
        (cnp.put, np.put, ([0, 5], [1.0, 2.0])),
        (cnp.place, np.place, (M > 0, [7.0, 8.0])),
        (cnp.fill_diagonal, np.fill_diagonal, (3.0,)),
        (cnp.copyto, np.copyto, (-1.0,)),
        (cnp.putmask, np.putmask, (M > 0, [1.0, 2.0])),
    ]:
        out, expected = M.copy(), M.copy()
        assert ours(out, *args) is None
        numpys(expected, *args)
        np.testing.assert_array_equal(out, expected)


# name -> (the arguments after the array, with a Tensor as the values written)
WRITERS = {
    "put_along_axis": lambda v: (CHOICE[:, :1], v, 1),
    "put": lambda v: ([0], v),
    "place": lambda v: (M > 0, v),
    "fill_diagonal": lambda v: (v,),
}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_in_place_writers_on_tensors_point_to_inplace_false(name):
    x = tensor(M, requires_grad=True)
    args = WRITERS[name](1.0)
    with pytest.raises(UnsupportedFunctionError, match=rf"{name} writes .*inplace=False"):
        getattr(cnp, name)(x, *args)
    with pytest.raises(UnsupportedFunctionError, match="in place"):
        getattr(np, name)(x, *args)  # NumPy dispatches to ours
    with pytest.raises(UnsupportedFunctionError, match="in place"):
        getattr(cnp, name)(M.copy(), *WRITERS[name](tensor(np.array(1.0), True)))
    new = getattr(cnp, name)(x, *args, inplace=False)
    assert isinstance(new, cr.Tensor) and new.shape == M.shape
    np.testing.assert_array_equal(x.numpy(), M)  # the input is left as it was


def test_copyto_and_putmask_are_refused_on_tensors():
    x = tensor(M, requires_grad=True)
    with pytest.raises(UnsupportedFunctionError, match=r"copyto .*cnp\.where"):
        cnp.copyto(M.copy(), x)
    with pytest.raises(UnsupportedFunctionError, match=r"copyto .*in place"):
        np.copyto(M.copy(), x)
    with pytest.raises(UnsupportedFunctionError, match=r"putmask .*cnp\.where"):
        cnp.putmask(x, M > 0, 1.0)


def test_put_along_axis_keeps_the_last_write_of_a_repeated_index():
    indices = np.array([[1, 1], [0, 2], [3, 3]])

    def written(x, values):
        return cnp.sum(cnp.put_along_axis(x, indices, values, 1, inplace=False) * M)

    values = RNG.uniform(-1.0, 1.0, (3, 2))
    x_grad, values_grad = cr.grad(written, argnums=(0, 1))(M, values)
    np.testing.assert_allclose(values_grad, [[0.0, M[0, 1]], [M[1, 0], M[1, 2]], [0.0, M[2, 3]]])
    kept = np.ones_like(M)
    kept[[0, 1, 1, 2], [1, 0, 2, 3]] = 0.0
    np.testing.assert_allclose(x_grad, M * kept)


# ----- shapes that depend on values ---------------------------------------------------------------
VALUE_SHAPED = [
    ("trim_zeros", lambda x: cnp.trim_zeros(x)),
    ("compress", lambda x: cnp.compress(x > 0, x)),
    ("extract", lambda x: cnp.extract(x > 0, x)),
    ("place", lambda x: cnp.place(x, x > 0, 1.0, inplace=False)),
    ("delete", lambda x: cnp.delete(x, cnp.argmax(x))),
    ("insert", lambda x: cnp.insert(x, cnp.argmax(x), 1.0)),
]


@pytest.mark.parametrize(("name", "function"), VALUE_SHAPED, ids=[v[0] for v in VALUE_SHAPED])
def test_value_dependent_shapes_are_refused_under_vmap_with_the_reason(name, function):
    examples = np.stack([np.r_[0.0, V, 0.0], np.r_[V, 0.0, 0.0]])
    with pytest.raises(BatchingError, match=rf"cnp\.{name}: the shape of the result depends"):
        cr.vmap(function)(examples)
    assert function(tensor(examples[0])) is not None  # outside vmap the values decide
    # Under grad the values are known, so the shape is too.
    assert np.isfinite(cr.grad(lambda x: cnp.sum(function(x) ** 2))(examples[0])).all()


def test_trim_zeros_differentiates_the_entries_it_keeps():
    x = tensor(np.array([0.0, 0.0, 1.5, 0.0, -2.0, 0.0]), requires_grad=True)
    trimmed = cnp.trim_zeros(x)
    np.testing.assert_array_equal(trimmed.numpy(), [1.5, 0.0, -2.0])
    cnp.sum(trimmed * np.array([1.0, 2.0, 3.0])).backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0, 2.0, 3.0, 0.0])


# ----- derivatives with closed forms -----------------------------------------------------------
def test_linspace_is_differentiable_in_its_endpoints():
    start, stop = tensor(np.array(1.0), True), tensor(np.array(4.0), True)
    samples = cnp.linspace(start, stop, 5)
    np.testing.assert_allclose(samples.numpy(), np.linspace(1.0, 4.0, 5))
    cnp.sum(samples * np.arange(5.0)).backward()
    weights = np.linspace(0.0, 1.0, 5)  # sample k = start + (stop - start) k / 4
    np.testing.assert_allclose(start.grad, np.sum(np.arange(5.0) * (1.0 - weights)))
    np.testing.assert_allclose(stop.grad, np.sum(np.arange(5.0) * weights))
    samples, step = cnp.linspace(0.0, stop, 4, endpoint=False, retstep=True)
    assert cr.grad(lambda e: cnp.linspace(0.0, e, 4, endpoint=False, retstep=True)[1])(4.0) \
        == pytest.approx(0.25)
    assert step.numpy() == pytest.approx(1.0)


def test_logspace_and_geomspace_endpoints_have_their_derivatives():
    # d/dx of 10 ** x is log(10) 10 ** x; geomspace's samples are start (stop/start)^(k/(n-1)).
    grad_last = cr.grad(lambda e: cnp.logspace(0.0, e, 3)[-1])(2.0)
    assert grad_last == pytest.approx(np.log(10.0) * 100.0)
    start, stop = 2.0, 32.0
    middle = cr.grad(lambda s: cnp.geomspace(s, stop, 5)[2])(start)
    assert middle == pytest.approx(0.5 * (stop / start) ** 0.5)
    assert cr.grad(lambda s: cnp.geomspace(s, stop, 5)[-1])(start) == 0.0
    assert cr.grad(lambda s: cnp.geomspace(-s, -stop, 5)[0])(start) == pytest.approx(-1.0)


def test_gradient_is_differentiable_in_its_coordinates():
    f, x = V, np.array([0.0, 0.5, 1.5, 1.75, 3.0])
    assert cr.gradcheck(lambda f, x: cnp.gradient(f, x), f, x)
    assert cr.gradcheck(lambda f, x: cnp.gradient(f, x, edge_order=2), f, x)
    # On the samples of a quadratic, second-order differences are exact, at any spacing.
    np.testing.assert_allclose(plain(cnp.gradient(tensor(x**2), x, edge_order=2)), 2 * x)


def test_piecewise_gives_each_function_only_its_entries():
    seen = []

    def piece(v):
        seen.append(v.shape)
        return v * 2.0

    x = tensor(V, requires_grad=True)
    result = cnp.piecewise(x, [x > 0], [piece, -1.0])
    count = int(np.sum(V > 0))
    assert seen == [(count,)]
    np.testing.assert_allclose(result.numpy(), np.where(V > 0, 2.0 * V, -1.0))
    cnp.sum(result).backward()
    np.testing.assert_allclose(x.grad, np.where(V > 0, 2.0, 0.0))


def test_piecewise_under_vmap_applies_each_function_entry_by_entry():
    functions = [lambda v: v**2, cnp.sin, 0.5]
    batched = cr.vmap(lambda x: cnp.piecewise(x, [x < -0.5, x > 0.5], functions))(M)
    loop = [np.piecewise(row, [row < -0.5, row > 0.5], [lambda v: v**2, np.sin, 0.5])
            for row in M]
    np.testing.assert_allclose(plain(batched), loop)


def test_choose_and_select_take_per_example_indices_under_vmap():
    indices = np.stack([CHOICE, 2 - CHOICE])
    choices = [M, -M, 10.0 * M]
    batched = cr.vmap(lambda a: cnp.choose(a, choices))(indices)
    np.testing.assert_allclose(plain(batched), [np.choose(a, choices) for a in indices])
    gradient = cr.grad(lambda c: cnp.sum(cnp.choose(CHOICE, [c, 2.0 * c, 3.0 * c])))(M)
    np.testing.assert_allclose(gradient, CHOICE + 1.0)


def test_choose_checks_every_example_under_vmap():
    with pytest.raises(ValueError, match="invalid entry"):
        cr.vmap(lambda a: cnp.choose(a, [M, M, M]))(np.stack([CHOICE, CHOICE + 1]))


def test_meshgrid_sends_each_grid_back_to_its_axis():
    x, y = tensor(V, True), tensor(M[0], True)
    grid_x, grid_y = cnp.meshgrid(x, y)
    assert grid_x.shape == (4, 5) and grid_y.shape == (4, 5)
    cnp.sum(grid_x * 2.0 + grid_y).backward()
    np.testing.assert_allclose(x.grad, np.full(5, 8.0))
    np.testing.assert_allclose(y.grad, np.full(4, 5.0))


def test_insert_and_delete_route_derivatives_to_the_entries_they_keep():
    x, values = tensor(M, True), tensor(V[:3], True)
    out = cnp.insert(x, [1, 1], values[:, None], axis=1)
    np.testing.assert_allclose(out.numpy(), np.insert(M, [1, 1], V[:3, None], axis=1))
    weights = RNG.uniform(size=out.shape)
    cnp.sum(out * weights).backward()
    np.testing.assert_allclose(x.grad, np.delete(weights, [1, 2], axis=1))
    np.testing.assert_allclose(values.grad, weights[:, 1] + weights[:, 2])
    kept = cr.grad(lambda a: cnp.sum(cnp.delete(a, [0, 2], axis=1)))(M)
    np.testing.assert_array_equal(kept, [[0.0, 1.0, 0.0, 1.0]] * 3)


def test_numpy_dispatches_to_these_functions():
    x = tensor(M, requires_grad=True)
    calls = [
        np.diff(x), np.kron(x, x), np.rot90(x), np.block([[x, x]]), np.gradient(x, axis=0),
        np.insert(x, 1, 0.0), np.delete(x, 0, axis=0), np.resize(x, 20), np.vander(x[0]),
        np.select([M > 0], [x]), np.choose(CHOICE, [x, x, x]), np.trim_zeros(x[0]),
        np.piecewise(x, [M > 0], [np.exp, 0.0]), np.unstack(x)[0], np.dstack([x, x]),
        np.linspace(x[0, 0], 1.0, 3), np.geomspace(abs(x[0, 0]), 8.0, 3),
        np.matrix_transpose(x), np.append(x, x), np.ediff1d(x),
    ]
    for result in calls:
        assert isinstance(result, cr.Tensor) and result.requires_grad


def test_lists_holding_tensors_are_joined_as_arrays():
    x = tensor(np.array(2.0), requires_grad=True)
    out = cnp.append(V, [x, 3.0 * x])
    np.testing.assert_allclose(out.numpy(), np.append(V, [2.0, 6.0]))
    cnp.sum(out).backward()
    assert float(x.grad) == pytest.approx(4.0)
    np.testing.assert_allclose(plain(cnp.diff([x, 2.0 * x, 5.0])), [2.0, 1.0])


# ----- vectorize, apply_along_axis, sets ----------------------------------------------------------
def test_vectorize_follows_numpys_rules_on_tensors():
    x = tensor(np.array([1.0, -1.0, 2.0]))
    # The first call's result decides the dtype, as in NumPy (here an int).
    step = cnp.vectorize(lambda v: 1 if v > 0 else 0.5)
    np.testing.assert_array_equal(plain(step(x)), [1, 0, 1])
    assert plain(step(x)).dtype == np.vectorize(lambda v: 1)(np.ones(1)).dtype
    as_float = cnp.vectorize(lambda v: 1 if v > 0 else 0.5, otypes=[float])
    np.testing.assert_array_equal(plain(as_float(x)), [1.0, 0.5, 1.0])
    power = cnp.vectorize(lambda v, p: v**p, excluded={1})
    np.testing.assert_allclose(plain(power(x, 2)), [1.0, 1.0, 4.0])
    pair = cnp.vectorize(lambda v: (v, 2.0 * v))(x)
    assert isinstance(pair, tuple) and len(pair) == 2
    matvec = cnp.vectorize(lambda a, b: a @ b, signature="(m,n),(n)->(m)")
    assert matvec(tensor(T), V[:4]).shape == (2, 3)
    with pytest.raises(ValueError, match="core dimension 'n'"):
        matvec(tensor(T), V)
    with pytest.raises(ValueError, match="not a valid gufunc signature"):
        cnp.vectorize(lambda a: a, signature="(n->()")(x)
    with pytest.raises(ValueError, match="size 0"):
        cnp.vectorize(lambda a: a)(tensor(np.zeros(0)))


def test_vectorize_records_each_call_so_branches_are_differentiable():
    @cnp.vectorize
    def ramp(v):
        return v * v if v > 0 else 0.1 * v

    x = tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    cnp.sum(ramp(x)).backward()
    np.testing.assert_allclose(x.grad, [1.0, 0.1, 4.0])
    np.testing.assert_allclose(ramp(np.array([0.5, -1.0])), [0.25, -0.1])  # NumPy's own


def test_apply_functions_check_their_shapes():
    with pytest.raises(ValueError, match="iteration dimension is 0"):
        cnp.apply_along_axis(cnp.sum, 0, tensor(np.zeros((3, 0))))
    with pytest.raises(ValueError, match="number of dimensions"):
        cnp.apply_over_axes(lambda a, axis: cnp.sum(a), tensor(T), [0])
    gradient = cr.grad(lambda a: cnp.sum(cnp.apply_over_axes(cnp.sum, a, [0, 2]) ** 2))(T)
    np.testing.assert_allclose(gradient, np.broadcast_to(2 * T.sum(axis=(0, 2))[None, :, None],
                                                         T.shape))


def test_set_functions_pick_their_values_from_the_inputs():
    a, b = np.array([3.0, 1.0, 2.0, 3.0, 5.0]), np.array([2.0, 7.0, 1.0])
    common, in_a, in_b = cnp.intersect1d(tensor(a), b, return_indices=True)
    expected = np.intersect1d(a, b, return_indices=True)
    for got, want in zip((plain(common), in_a, in_b), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    for name in ("intersect1d", "setdiff1d", "setxor1d"):
        unique_a, unique_b = np.array([3.0, 1.0, 2.0]), b
        np.testing.assert_array_equal(
            plain(getattr(cnp, name)(tensor(unique_a), unique_b, assume_unique=True)),
            getattr(np, name)(unique_a, unique_b, assume_unique=True),
        )
    # union1d keeps each value's first occurrence: its derivative goes there.
    gradient = cr.grad(lambda x: cnp.sum(cnp.union1d(x, b) * np.arange(5.0)))(a)
    np.testing.assert_array_equal(gradient, [2.0, 0.0, 1.0, 0.0, 3.0])


def test_sort_complex_orders_by_real_then_imaginary_part():
    z = np.array([1 + 2j, 1 + 1j, 0.5 + 9j, -1j, 3 + 0j])
    np.testing.assert_array_equal(plain(cnp.sort_complex(tensor(z))), np.sort_complex(z))
    with pytest.raises(TypeError, match="complex"):
        cnp.sort(tensor(z))  # sort itself refuses an order of complex numbers
    batched = cr.vmap(cnp.sort_complex)(np.stack([z, z[::-1].conj()]))
    np.testing.assert_array_equal(plain(batched), [np.sort_complex(z), np.sort_complex(z.conj())])


def test_reshape_reads_sizes_as_numpy_does_and_refuses_a_bool():
    values = np.arange(6.0)
    x = cr.tensor(values, requires_grad=True)
    for shape in [(2, -1), (-1,), (np.int64(3), 2)]:
        np.testing.assert_array_equal(cnp.reshape(x, shape).numpy(), values.reshape(shape))
    for shape in [(True, 6), (np.bool_(True), 6)]:  # NumPy refuses a bool as a size
        with pytest.raises(TypeError):
            values.reshape(shape)
        with pytest.raises(InputTypeError, match="sequence of ints"):
            cnp.reshape(x, shape)
