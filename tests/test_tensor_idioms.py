"""The PyTorch idioms on cr.Tensor (issue 16, section 2): each one's value against NumPy and
PyTorch's semantics (checked against torch 2 by hand; torch is never imported here), gradients
against finite differences (cr.gradcheck), and the errors where chainrule spells it otherwise."""

import pickle
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.core.primitive import REGISTRY
from chainrule.core.tensor import ValuesIndices
from chainrule.errors import InplaceError, NonLeafGradWarning, ShapeError

RNG = np.random.default_rng(0)
A = RNG.standard_normal((2, 3, 4))
M = np.arange(6.0).reshape(2, 3)


def leaf(array=A):
    return cr.tensor(array, requires_grad=True)


def check(function, *arrays, **options):
    """cr.gradcheck of a function written with Tensor methods (gradcheck also calls it once on
    the plain arrays, which have no such methods)."""
    def on_tensors(*values):
        return function(*(v if isinstance(v, cr.Tensor) else cr.tensor(v) for v in values))

    return cr.gradcheck(on_tensors, *arrays, **options)


# ----- facts: size(), numel(), dim(), device ------------------------------------------------------
def test_size_is_numpys_count_and_pytorchs_shape_when_called():
    t = cr.tensor(A)
    assert t.size == 24 and isinstance(t.size, int)  # NumPy's meaning
    assert t.size() == (2, 3, 4)  # PyTorch's
    assert t.size(0) == 2 and t.size(-1) == 4 and t.size(1) == 3
    assert t.numel() == 24 and type(t.numel()) is int
    assert t.dim() == 3 == t.ndim
    assert cr.tensor(1.0).size() == () and cr.tensor(1.0).numel() == 1
    assert np.zeros(t.size).shape == (24,)  # still usable as a number
    assert pickle.loads(pickle.dumps(t.size)) == 24
    assert t.device == "cpu"


def test_size_out_of_range_says_the_range():
    with pytest.raises(IndexError, match=r"range of \[-3, 2\], but got 3"):
        cr.tensor(A).size(3)


# ----- shapes: view, reshape, unsqueeze, permute, flatten, squeeze ------------------------------
def test_view_and_reshape_take_sizes_or_a_tuple_and_minus_one():
    t = cr.tensor(A)
    for shaped in (t.view(6, 4), t.view((6, 4)), t.view(-1, 4), t.reshape(6, -1),
                   t.reshape([6, 4]), t.view(t.size(0) * 3, -1)):
        np.testing.assert_array_equal(shaped.numpy(), A.reshape(6, 4))
    assert t.view(-1).shape == (24,)


def test_view_as_a_dtype_is_refused_with_our_spelling():
    with pytest.raises(TypeError, match=r"t.to\(dtype\)"):
        cr.tensor(A).view(np.float32)


def test_unsqueeze_at_every_position():
    t = cr.tensor(M)
    for dim, shape in ((0, (1, 2, 3)), (1, (2, 1, 3)), (2, (2, 3, 1)), (-1, (2, 3, 1)),
                       (-3, (1, 2, 3))):
        np.testing.assert_array_equal(t.unsqueeze(dim).numpy(), np.expand_dims(M, dim))
        assert t.unsqueeze(dim).shape == shape
    with pytest.raises(IndexError, match=r"\[-3, 2\], but got 3"):
        t.unsqueeze(3)


def test_permute_takes_dims_or_a_tuple():
    t = cr.tensor(A)
    np.testing.assert_array_equal(t.permute(2, 0, 1).numpy(), A.transpose(2, 0, 1))
    np.testing.assert_array_equal(t.permute((1, 2, 0)).numpy(), A.transpose(1, 2, 0))
    np.testing.assert_array_equal(t.permute(-1, 0, 1).numpy(), A.transpose(2, 0, 1))
    with pytest.raises(ShapeError, match="number of dims"):
        t.permute(1, 0)


def test_flatten_from_start_dim_to_end_dim():
    t = cr.tensor(A)
    assert t.flatten().shape == (24,)
    assert t.flatten(1).shape == (2, 12)
    assert t.flatten(0, 1).shape == (6, 4)
    assert t.flatten(start_dim=1, end_dim=-1).shape == (2, 12)
    np.testing.assert_array_equal(t.flatten(1).numpy(), A.reshape(2, 12))
    assert cr.tensor(5.0).flatten().shape == (1,)


def test_squeeze_with_dim_keeps_a_dimension_that_is_not_one():
    t = cr.tensor(np.zeros((1, 3, 1)))
    assert t.squeeze(dim=1).shape == (1, 3, 1)  # PyTorch: a no-op
    assert t.squeeze(dim=0).shape == (3, 1)
    assert t.squeeze(dim=-1).shape == (1, 3)
    assert t.squeeze().shape == (3,)


def test_t_transposes_a_matrix_only():
    np.testing.assert_array_equal(cr.tensor(M).t().numpy(), M.T)
    with pytest.raises(ShapeError, match="mT"):
        cr.tensor(A).t()


@pytest.mark.parametrize(
    "reshape",
    [
        lambda x: x.view(4, -1),
        lambda x: x.unsqueeze(1),
        lambda x: x.permute(2, 0, 1),
        lambda x: x.flatten(1),
        lambda x: x.flatten(0, 1).t(),
        lambda x: x.squeeze(dim=0),
    ],
)
def test_shape_idioms_differentiate(reshape):
    assert check(lambda x: reshape(x) * 2.0, A)


# ----- copies and casts ---------------------------------------------------------------------------
def test_clone_is_a_recorded_copy():
    x = leaf(M)
    copy = x.clone()
    assert copy.grad_fn is not None and not copy.is_leaf
    assert not np.shares_memory(copy.numpy(), x.numpy())
    (copy * copy).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * M)
    assert check(lambda x: x.clone() ** 2, M)


def test_clone_of_a_constant_is_a_constant():
    copy = cr.tensor(M).clone()
    assert not copy.requires_grad and copy.grad_fn is None
    np.testing.assert_array_equal(copy.numpy(), M)


def test_float_double_half_and_to_cast_recorded():
    x = leaf(M)
    assert x.float().dtype == np.float32 and x.half().dtype == np.float16
    assert x.double() is x and x.to(np.float64) is x and x.to("cpu") is x  # no change: itself
    assert x.to(np.float32).dtype == np.float32 and x.to("float32").dtype == np.float32
    assert x.to("cpu", np.float32).dtype == np.float32
    assert x.to(dtype=np.float32, device="cpu").dtype == np.float32
    assert x.to(cr.tensor(np.zeros(1, np.float32))).dtype == np.float32
    assert x.to(np.float64, copy=True) is not x
    assert x.long().dtype == np.int64 and x.int().dtype == np.int32 and x.bool().dtype == bool
    (x.float() * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), 3.0))
    assert x.grad.dtype == np.float64
    assert check(lambda x: x.to(np.float64, copy=True) * x.double(), M)


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "mps"])
def test_other_devices_raise_naming_the_fix(device):
    with pytest.raises(ValueError, match="CPU only. Drop the device"):
        cr.tensor(M).to(device)
    with pytest.raises(ValueError, match="CPU only"):
        cr.zeros(2, device=device)
    with pytest.raises(ValueError, match="cr.tensor.*CPU only.*CuPy"):
        cr.tensor(M, device=device)
    with pytest.raises(ValueError, match="cr.as_tensor.*CPU only"):
        cr.as_tensor(M, device=device)
    assert cr.zeros(2, device="cpu").shape == (2,) and cr.tensor(M).cpu().shape == (2, 3)
    assert cr.tensor(M, device="cpu").shape == (2, 3) == cr.as_tensor(M, device="cpu").shape


def test_cuda_raises_naming_the_fix():
    with pytest.raises(ValueError, match="'cuda'.*CPU only"):
        cr.tensor(M).cuda()
    from chainrule import nn

    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"Module.cuda\(\).*CPU only.*CuPy"):
        model.cuda()
    with pytest.raises(ValueError, match="Module.to.*CPU only"):
        model.to("cuda:1")
    assert model.cpu() is model and model.to("cpu") is model


# ----- .data --------------------------------------------------------------------------------------
def test_data_is_the_value_detached_sharing_memory():
    x = leaf(M)
    data = x.data
    assert not data.requires_grad and data.grad_fn is None
    assert np.shares_memory(data.numpy(), x.numpy())
    y = x * 2
    assert y.data.grad_fn is None and np.array_equal(y.data.numpy(), 2 * M)


def test_data_updates_in_place_reach_the_tensor_unrecorded():
    x = leaf([1.0, 2.0])
    x.data.add_(1.0)  # an old-style optimiser step, outside no_grad
    np.testing.assert_array_equal(x.numpy(), [2.0, 3.0])
    x.data -= 1.0
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    x.data[0] = 7.0
    np.testing.assert_array_equal(x.numpy(), [7.0, 2.0])
    x.data.mul_(2)
    np.testing.assert_array_equal(x.numpy(), [14.0, 4.0])
    x.data.zero_()
    np.testing.assert_array_equal(x.numpy(), [0.0, 0.0])
    assert x.is_leaf and x.requires_grad and x.dtype == np.float64


def test_assigning_data_replaces_the_value_any_shape():
    x = leaf([1.0, 2.0])
    x.data = np.arange(5.0)
    assert x.shape == (5,) and x.is_leaf and x.requires_grad
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * np.arange(5.0))
    x.data = cr.tensor([3.0])
    np.testing.assert_array_equal(x.numpy(), [3.0])


def test_assigning_integer_data_to_a_tensor_that_requires_grad_is_refused():
    x = leaf([1.0, 2.0])
    with pytest.raises(TypeError):
        x.data = np.array([1, 2])


def test_a_graph_built_before_assigning_data_keeps_its_values():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    x.data = np.array([10.0, 20.0])
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])  # d/dx at the recorded x


# ----- in-place updates ---------------------------------------------------------------------------
def test_grad_zero_():
    x = leaf(M)
    (x * x).sum().backward()
    assert x.grad.zero_() is x.grad
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 3.0))


def test_zero_on_a_leaf_that_requires_grad_needs_no_grad():
    x = leaf(M)
    with pytest.raises(InplaceError, match=r"zero_\(\) on a leaf.*cr.no_grad"):
        x.zero_()
    with cr.no_grad():
        assert x.zero_() is x
    np.testing.assert_array_equal(x.numpy(), np.zeros((2, 3)))
    assert x.is_leaf and x.requires_grad


def test_zero_on_a_computed_tensor_records_a_zero_gradient():
    x = leaf(M)
    y = x * 3
    y.zero_()
    np.testing.assert_array_equal(y.numpy(), np.zeros((2, 3)))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))  # PyTorch's ZeroBackward


def test_fill_and_copy_pass_the_gradient_to_the_source():
    x = leaf(M)
    source = leaf([1.0, 2.0, 3.0])
    y = x * 1.0
    y.copy_(source)  # broadcast over rows
    np.testing.assert_array_equal(y.numpy(), [[1, 2, 3], [1, 2, 3]])
    (y * y).sum().backward()
    np.testing.assert_array_equal(source.grad.numpy(), [4.0, 8.0, 12.0])
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))
    scalar = cr.tensor(2.0, requires_grad=True)
    z = (x * 1.0).fill_(scalar)
    z.sum().backward()
    assert scalar.grad.item() == 6.0
    g = cr.tensor(np.ones(2, np.float32))
    assert g.fill_(0.5).dtype == np.float32 and g.numpy()[0] == 0.5


def test_inplace_forms_of_math_methods():
    t = cr.tensor([0.5, 1.0, -2.0])
    t.add_(1.0, alpha=2.0)
    np.testing.assert_allclose(t.numpy(), [2.5, 3.0, 0.0])
    t.mul_(2).sub_(1).div_(2)
    np.testing.assert_allclose(t.numpy(), [2.0, 2.5, -0.5])
    t.clamp_(0.0, 2.2).sqrt_()
    np.testing.assert_allclose(t.numpy(), np.sqrt([2.0, 2.2, 0.0]))
    t.sin_()
    np.testing.assert_allclose(t.numpy(), np.sin(np.sqrt([2.0, 2.2, 0.0])))
    u = cr.tensor([-1.0, 2.0])
    u.relu_().pow_(2)
    np.testing.assert_array_equal(u.numpy(), [0.0, 4.0])
    w = leaf([1.0, 2.0])
    with pytest.raises(InplaceError, match="cr.no_grad"):
        w.mul_(2)
    with cr.no_grad():
        w.mul_(2)
    np.testing.assert_array_equal(w.numpy(), [2.0, 4.0])


def test_inplace_method_on_a_computed_tensor_is_recorded():
    x = leaf([0.3, 0.7])
    y = x * 1.0
    y.exp_()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.3, 0.7]))


# ----- math methods from the registry -------------------------------------------------------------
def _one_input_rows():
    rows = []
    for primitive in REGISTRY.values():
        arity = primitive.ufunc.nin if primitive.ufunc is not None else (
            len(primitive.vjps) if isinstance(primitive.vjps, tuple) and primitive.vjps else None)
        if arity == 1:
            rows.extend((primitive, name) for name in primitive.names)
    return rows


@pytest.mark.parametrize("row, name", _one_input_rows(), ids=lambda item: str(item))
def test_every_one_input_row_is_a_method(row, name):
    x = np.array([0.3, 0.6, 0.9]) + 1.0 * name.startswith(("arccosh", "acosh"))
    expected = row.impl(x)
    attribute = getattr(cr.tensor(x), name)
    got = attribute if isinstance(getattr(cr.Tensor, name), property) else attribute()
    np.testing.assert_allclose(np.asarray(got.numpy()), expected)


def test_row_methods_differentiate():
    for name in ("sin", "sigmoid", "arctanh", "log1p", "expm1", "square", "reciprocal", "cbrt"):
        assert check(lambda x, name=name: getattr(x, name)(), np.array([0.3, 0.6])), name
    x = leaf([0.2, 0.4])
    x.sigmoid().sum().backward()
    s = 1 / (1 + np.exp(-np.array([0.2, 0.4])))
    np.testing.assert_allclose(x.grad.numpy(), s * (1 - s))


def test_row_methods_are_listed_by_dir():
    names = dir(cr.tensor(1.0))
    assert {"sin", "sigmoid", "arcsin", "asin", "isnan", "log1p"} <= set(names)


def test_relu_pow_clamp_neg_matmul():
    x = cr.tensor([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(x.relu().numpy(), [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(x.pow(2).numpy(), [1.0, 0.0, 4.0])
    np.testing.assert_array_equal(x.clamp(min=0.5).numpy(), [0.5, 0.5, 2.0])
    np.testing.assert_array_equal(x.neg().numpy(), [1.0, -0.0, -2.0])
    assert x.matmul(x).item() == 5.0
    np.testing.assert_array_equal(x.add(x, alpha=3).numpy(), [-4.0, 0.0, 8.0])
    np.testing.assert_array_equal(x.max(cr.tensor(0.5)).numpy(), [0.5, 0.5, 2.0])  # maximum
    np.testing.assert_array_equal(x.min(cr.tensor(0.5)).numpy(), [-1.0, 0.0, 0.5])
    assert check(lambda x: x.relu() * x.pow(3), np.array([-1.0, 0.5, 2.0]))
    y = leaf([-1.0, 0.0, 2.0])
    y.relu().sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.0, 1.0])  # 0 at 0, as PyTorch


def test_softmax_log_softmax_logsumexp_methods():
    t = cr.tensor(M)
    expected = np.exp(M) / np.exp(M).sum(1, keepdims=True)
    np.testing.assert_allclose(t.softmax(1).numpy(), expected)
    np.testing.assert_allclose(t.softmax(dim=-1).numpy(), expected)
    np.testing.assert_allclose(t.log_softmax(dim=1).numpy(), np.log(expected))
    lse = np.log(np.exp(M).sum(1))
    np.testing.assert_allclose(t.logsumexp(1).numpy(), lse)  # PyTorch: 2.4076, 5.4076
    assert t.logsumexp(dim=1, keepdim=True).shape == (2, 1)
    assert check(lambda x: x.log_softmax(dim=0) * x.logsumexp(dim=1, keepdim=True), M)


# ----- norm ---------------------------------------------------------------------------------------
def test_norm_values_match_pytorch():
    t = cr.tensor(M)
    np.testing.assert_allclose(t.norm().item(), np.sqrt((M**2).sum()))  # 7.4162, a matrix too
    np.testing.assert_allclose(t.norm(p=1, dim=1).numpy(), [3.0, 12.0])
    np.testing.assert_allclose(t.norm(p=1, dim=(0, 1)).item(), 15.0)
    np.testing.assert_allclose(t.norm(p=2, dim=(0, 1)).item(), np.sqrt((M**2).sum()))
    np.testing.assert_allclose(t.norm(p=np.inf, dim=0).numpy(), [3.0, 4.0, 5.0])
    np.testing.assert_allclose(t.norm(3, 1).numpy(), ((M**3).sum(1)) ** (1 / 3))
    assert t.norm(dim=1, keepdim=True).shape == (2, 1)
    np.testing.assert_allclose(t.norm(p="nuc").item(), np.linalg.svd(M)[1].sum())
    np.testing.assert_allclose(t.norm(axis=0).numpy(), np.linalg.norm(M, axis=0))


def test_norm_edge_cases():
    assert cr.tensor(-3.0).norm().item() == 3.0
    kept = cr.tensor(A).norm(p=1, dim=(0, 2), keepdim=True)
    np.testing.assert_allclose(kept.numpy(), np.abs(A).sum((0, 2), keepdims=True))
    np.testing.assert_array_equal(cr.tensor([-1.0, np.nan, 0.0, 2.0]).relu().numpy(),
                                  [0.0, np.nan, 0.0, 2.0])
    np.testing.assert_array_equal(cr.tensor(np.zeros((0, 2))).logsumexp(0).numpy(), [-np.inf] * 2)


def test_norm_differentiates():
    assert check(lambda x: x.norm(), A)
    assert check(lambda x: x.norm(p=3, dim=1, keepdim=True), A)
    assert check(lambda x: x.norm(p=1, dim=(0, 2)), A + 5.0)
    x = leaf(np.zeros(3))
    x.norm().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3))  # PyTorch's 0 at 0, not NaN


# ----- dim= / keepdim= ----------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["sum", "mean", "prod", "argmax", "argmin", "logsumexp"])
def test_reductions_take_dim_and_keepdim(method):
    t = cr.tensor(A)
    numpy_spelling = getattr(t, method)(axis=1, keepdims=True)
    pytorch_spelling = getattr(t, method)(dim=1, keepdim=True)
    np.testing.assert_allclose(pytorch_spelling.numpy(), numpy_spelling.numpy())
    assert pytorch_spelling.shape == (2, 1, 4)
    with pytest.raises(TypeError, match="both axis= and dim="):
        getattr(t, method)(axis=1, dim=1)


def test_dim_takes_a_tuple_and_a_list():
    t = cr.tensor(A)
    np.testing.assert_allclose(t.sum(dim=(0, 2)).numpy(), A.sum((0, 2)))
    np.testing.assert_allclose(t.mean(dim=[0, 2]).numpy(), A.mean((0, 2)))


def test_cumsum_takes_dim():
    np.testing.assert_array_equal(cr.tensor(M).cumsum(dim=1).numpy(), np.cumsum(M, 1))


def test_max_and_min_with_dim_return_values_and_indices():
    t = cr.tensor(M)
    result = t.max(dim=0)
    assert isinstance(result, ValuesIndices)
    values, indices = result
    np.testing.assert_array_equal(values.numpy(), [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 1, 1])
    assert result.values is values and result.indices is indices
    low = t.min(dim=1, keepdim=True)
    np.testing.assert_array_equal(low.values.numpy(), [[0.0], [3.0]])
    np.testing.assert_array_equal(low.indices.numpy(), [[0], [0]])
    np.testing.assert_array_equal(t.max(1).numpy(), [2.0, 5.0])  # NumPy's positional axis
    np.testing.assert_array_equal(t.max(axis=1, keepdim=True).numpy(), [[2.0], [5.0]])
    with pytest.raises(TypeError, match=r"max\(axis=\(...\)\)"):
        t.max(dim=(0, 1))


def test_max_with_dim_differentiates():
    assert check(lambda x: x.max(dim=1).values * 2, A)
    assert check(lambda x: x.min(dim=0, keepdim=True)[0], A)


def test_var_and_std_with_dim_are_unbiased_as_pytorchs():
    t = cr.tensor(M)
    np.testing.assert_allclose(t.var(dim=0).numpy(), [4.5, 4.5, 4.5])  # PyTorch's
    np.testing.assert_allclose(t.std(dim=1).numpy(), [1.0, 1.0])
    np.testing.assert_allclose(t.var(0).numpy(), M.var(0))  # NumPy's positional axis: ddof 0
    np.testing.assert_allclose(t.var().item(), M.var())  # 2.9167, NumPy's (PyTorch: 3.5)
    np.testing.assert_allclose(t.var(dim=0, unbiased=False).numpy(), M.var(0))
    np.testing.assert_allclose(t.var(dim=0, correction=0).numpy(), M.var(0))
    np.testing.assert_allclose(t.std(correction=1).item(), M.std(ddof=1))
    np.testing.assert_allclose(t.var(axis=1, ddof=1, keepdim=True).numpy(),
                               M.var(1, ddof=1, keepdims=True))
    with pytest.raises(TypeError, match="one of ddof"):
        t.var(ddof=1, correction=1)
    assert check(lambda x: x.std(dim=1) + x.var(dim=(0, 2), keepdim=True).sum(), A)


# ----- retain_grad and the non-leaf hint ----------------------------------------------------------
def test_retain_grad_keeps_a_non_leaf_gradient_and_accumulates():
    x = cr.ones(3, requires_grad=True)
    y = x * 2
    y.retain_grad()
    assert y.retains_grad and not x.retains_grad
    (y * y).sum().backward(retain_graph=True)
    np.testing.assert_array_equal(y.grad.numpy(), [4.0, 4.0, 4.0])
    (y * y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [8.0, 8.0, 8.0])  # PyTorch's, accumulated
    np.testing.assert_array_equal(x.grad.numpy(), [16.0, 16.0, 16.0])


def test_retain_grad_on_the_output_and_on_a_leaf():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.retain_grad()
    x.retain_grad()  # a leaf keeps its gradient anyway
    y.backward()
    assert y.grad.item() == 1.0
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        cr.tensor(1.0).retain_grad()


def test_retain_grad_with_create_graph_keeps_a_differentiable_gradient():
    x = cr.tensor(2.0, requires_grad=True)
    y = x * x
    y.retain_grad()
    (y * y * y).backward(create_graph=True)  # d(y^3)/dy = 3 y^2 = 48
    assert y.grad.item() == 48.0 and y.grad.requires_grad


def test_reading_grad_of_a_non_leaf_warns_with_our_fix():
    w = leaf([1.0, 2.0])
    (w * w).sum().backward()
    w = w - 0.1 * w.grad  # outside no_grad: w is now computed from the old w
    with pytest.warns(NonLeafGradWarning, match=r"not a leaf Tensor.*cr.no_grad\(\): w -= lr"):
        assert w.grad is None
    assert issubclass(NonLeafGradWarning, UserWarning)


def test_no_warning_for_leaves_retained_or_no_grad_updates():
    w = leaf([1.0, 2.0])
    (w * w).sum().backward()
    with cr.no_grad():
        w -= 0.1 * w.grad
    y = w * 2
    y.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert w.grad is not None and w.is_leaf
        assert y.grad is None
        assert cr.tensor(1.0).grad is None


# ----- requires_grad_ ----------------------------------------------------------------------------
def test_requires_grad_underscore():
    x = cr.tensor(M)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    with pytest.raises(InplaceError, match="detach"):
        (leaf() * 2).requires_grad_(False)
    with pytest.raises(TypeError):
        cr.tensor([1, 2]).requires_grad_()


# ----- constructors -------------------------------------------------------------------------------
def test_zeros_ones_full_empty_take_sizes_or_a_tuple():
    for make, fill in ((cr.zeros, 0.0), (cr.ones, 1.0)):
        for t in (make(2, 3), make((2, 3)), make([2, 3]), make(cr.tensor(M).size())):
            assert t.shape == (2, 3) and t.dtype == np.float64 and np.all(t.numpy() == fill)
            assert t.is_leaf and not t.requires_grad
    assert cr.zeros(2, dtype=np.float32).dtype == np.float32
    assert cr.zeros(()).shape == ()
    assert cr.empty(2, 3).shape == (2, 3) and cr.empty(2).dtype == np.float64
    assert cr.full((2,), 3).dtype == np.int64  # the value's kind, as PyTorch
    assert cr.full((2,), True).dtype == bool
    np.testing.assert_array_equal(cr.full((2, 2), 0.5).numpy(), np.full((2, 2), 0.5))
    assert cr.full(3, 1.5, dtype=np.float32).dtype == np.float32


def test_constructors_requires_grad():
    x = cr.ones(3, requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    assert cr.zeros(2, requires_grad=True).requires_grad
    assert cr.randn(2, requires_grad=True).requires_grad
    with pytest.raises(TypeError):
        cr.arange(3, requires_grad=True)  # integers carry no derivative


def test_like_constructors_follow_the_input():
    base = cr.tensor(np.ones((2, 1), np.float32))
    assert cr.zeros_like(base).shape == (2, 1) and cr.zeros_like(base).dtype == np.float32
    assert np.all(cr.ones_like(base).numpy() == 1.0)
    assert cr.ones_like(M, dtype=np.float32).dtype == np.float32
    assert cr.full_like(base, 7.0).numpy()[1, 0] == 7.0
    assert cr.zeros_like(base, requires_grad=True).requires_grad


def test_arange_as_pytorch():
    assert cr.arange(5).dtype == np.int64
    np.testing.assert_array_equal(cr.arange(5).numpy(), np.arange(5))
    np.testing.assert_array_equal(cr.arange(1, 2, 0.25).numpy(), [1.0, 1.25, 1.5, 1.75])
    assert cr.arange(3, dtype=np.float64).dtype == np.float64
    assert cr.arange(0.0, 3.0, requires_grad=True).requires_grad


def test_rand_and_randn_take_a_seed_or_a_generator():
    a = cr.randn(2, 3, rng=0)
    np.testing.assert_array_equal(a.numpy(), np.random.default_rng(0).standard_normal((2, 3)))
    b = cr.rand((4,), rng=np.random.default_rng(1))
    np.testing.assert_array_equal(b.numpy(), np.random.default_rng(1).random(4))
    assert np.all((b.numpy() >= 0) & (b.numpy() < 1))
    assert cr.randn(3, dtype=np.float32).dtype == np.float32 and cr.rand(2).dtype == np.float64
    assert not np.array_equal(cr.randn(8).numpy(), cr.randn(8).numpy())  # fresh draws
    with pytest.raises(TypeError, match="rng="):
        cr.randn(2, generator=object())


def test_cat_and_stack_are_recorded():
    x, y = leaf(M), leaf(M[:1] + 1)
    np.testing.assert_array_equal(cr.cat([x, y]).numpy(), np.concatenate([M, M[:1] + 1]))
    np.testing.assert_array_equal(cr.cat((x, x), dim=1).numpy(), np.concatenate([M, M], 1))
    np.testing.assert_array_equal(cr.stack([x, x], dim=-1).numpy(), np.stack([M, M], -1))
    np.testing.assert_array_equal(cr.stack([x, x], axis=1).numpy(), np.stack([M, M], 1))
    (cr.cat([x, y]) ** 2).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), 2 * (M[:1] + 1))
    assert check(lambda a, b: cr.stack([a, b * a], dim=1), M, M + 1)
    assert check(lambda a, b: cr.cat([a, b], dim=0), M, M[:1])


# ----- no_grad as a bare decorator ----------------------------------------------------------------
def test_no_grad_and_enable_grad_decorate_without_parentheses():
    @cr.no_grad
    def bare(x):
        return x * 2

    @cr.no_grad()
    def called(x):
        return x * 2

    x = leaf([1.0])
    assert not bare(x).requires_grad and not called(x).requires_grad
    assert bare.__name__ == "bare"

    @cr.enable_grad
    def recording(x):
        return x * 2

    with cr.no_grad():
        assert recording(x).requires_grad
    assert cr.is_grad_enabled()
    with pytest.raises(TypeError, match="takes no arguments"):
        cr.no_grad(3)


# ----- an idiomatic PyTorch loop ------------------------------------------------------------------
def test_a_pytorch_style_training_loop_runs_unchanged():
    rng = np.random.default_rng(0)
    inputs = cr.tensor(rng.standard_normal((32, 3)))
    targets = inputs @ cr.tensor([[1.0], [-2.0], [0.5]])
    w = cr.zeros(3, 1, requires_grad=True)
    for _ in range(200):
        loss = ((inputs.matmul(w) - targets).pow(2)).mean(dim=0).sum()
        if w.grad is not None:
            w.grad.zero_()
        loss.backward()
        with cr.no_grad():
            w -= 0.1 * w.grad
    np.testing.assert_allclose(w.detach().view(-1).numpy(), [1.0, -2.0, 0.5], atol=1e-6)


def test_methods_work_inside_functional_transforms():
    def f(x):
        return x.unsqueeze(0).permute(1, 0).flatten().sigmoid().norm(p=2)

    assert check(f, np.array([0.1, -0.4, 0.9]))
    np.testing.assert_allclose(
        cr.grad(lambda x: x.sin().sum())(np.array([0.1, 0.2])), np.cos([0.1, 0.2])
    )
    assert cnp.allclose(cr.vmap(lambda x: x.view(-1).sum())(np.ones((3, 2, 2))), 4.0)


@pytest.mark.parametrize("make", [
    lambda: cr.zeros(3, dtype="U3"), lambda: cr.ones(2, dtype=object), lambda: cr.full(2, "a"),
    lambda: cr.empty(2, dtype="S2"), lambda: cr.zeros_like(np.ones(2), dtype="U1"),
    lambda: cr.randn(2, dtype=object),
])
def test_constructors_refuse_dtypes_that_are_not_numbers(make):
    from chainrule.errors import InputTypeError

    with pytest.raises(InputTypeError, match=r"cr\.\w+\(\) would make an array of dtype .*numeric"):
        make()


def test_module_cuda_with_the_cpu_returns_the_module():
    from chainrule import nn

    model = nn.Linear(2, 2)
    assert model.cuda("cpu") is model


def test_pytorch_module_level_names_work_or_name_our_spelling():
    import chainrule as cr

    assert cr.zeros(2, dtype=cr.float32).dtype == np.float32
    assert cr.tensor([1.0]).to(cr.float16).dtype == np.float16
    assert cr.int64 is np.int64 and cr.bool is np.bool_ and cr.complex64 is np.complex64
    array = np.ones(3)
    shared = cr.from_numpy(array)
    array[0] = 5.0
    assert shared.numpy()[0] == 5.0  # memory shared, as torch.from_numpy
    with pytest.raises(TypeError, match="NumPy array"):
        cr.from_numpy([1.0, 2.0])
    assert cr.nn.Linear is __import__("chainrule.nn", fromlist=["Linear"]).Linear
    assert cr.optim.Adam and cr.data.DataLoader  # submodules on first use, as torch.nn
    for name, spelling in [("manual_seed", "rng="), ("float", "cr.float32"),
                           ("inference_mode", r"cr.no_grad\(\)"), ("exp", "cnp.exp")]:
        with pytest.raises(AttributeError, match=spelling):
            getattr(cr, name)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'$"):
        cr.nonexistent  # noqa: B018


def test_backward_with_gradients_turned_off_says_so():
    import chainrule as cr

    x = cr.tensor(2.0, requires_grad=True)
    cr.set_grad_enabled(False)
    try:
        y = x * x
        with pytest.raises(RuntimeError, match=r"Gradients are off.*set_grad_enabled\(True\)"):
            y.backward()
    finally:
        cr.set_grad_enabled(True)
    with pytest.raises(RuntimeError) as caught:
        cr.tensor(1.0).backward()
    assert "Gradients are off" not in str(caught.value)


def test_a_missing_name_on_the_package_imports_nothing():
    import subprocess
    import sys

    code = ("import sys, chainrule as cr; assert not hasattr(cr, 'foo'); "
            "assert not hasattr(cr, 'manual_seed'); "
            "print(sorted(m for m in sys.modules if m.startswith(('chainrule.scipy', "
            "'chainrule.nn', 'chainrule.optim', 'chainrule.data'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
