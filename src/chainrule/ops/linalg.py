"""Linear-algebra primitives: matmul, einsum, and NumPy's linalg decompositions and solvers.

Each block holds the NumPy implementation and its VJP and JVP rules, with the matrix-calculus
identity behind them in a comment. Batched inputs (..., m, n) work throughout; `mT` swaps the
last two axes, `mH` also conjugates. Rules call chainrule's own primitives, so derivatives of
derivatives work.

Complex matrices follow the functional transforms' convention (JAX's): a VJP gives the
cotangent W of an input under the bilinear pairing <W, T> = Re(sum(W * T)), no conjugation.
So the rules of holomorphic maps (matmul, inv, det, solve, the cofactor matrix: polynomial or
rational in the entries) are their real formulas with plain transposes, and conjugates appear
only where the function itself conjugates: A^H in a Hermitian input (cholesky, eigh), a unitary
factor (qr, svd), |.| (norm), a real output of a complex input (logabsdet, eigenvalues of a
Hermitian matrix, singular values), the phase convention of eigenvectors. A rule decides real
or complex by its primal's dtype: a real primal's rule is C-linear, so a complex tangent the
user asked for gets the linear extension J(a + ib) = J a + i J b.
"""

import string

import numpy as np

from chainrule.core.batching import is_differentiated as _differentiated
from chainrule.core.batching import pad_rank
from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.primitive import OUT, TRACED_TYPES, PerInput, defprimitive
from chainrule.core.trace import physical_value
from chainrule.errors import NonDifferentiableError, ShapeError
from chainrule.ops._batching import ALONG_AXIS, POINTWISE, STACKED
from chainrule.ops._rules import const, prim, select

X, Y = 0, 1


# ----- helpers shared by the rules ---------------------------------------------------------------
_shape = shape_of  # one example's shape under vmap
_dtype = dtype_of


def mT(a):
    """Swap the last two axes (matrix transpose of a batch)."""
    if type(a) is np.ndarray and a.ndim >= 2:
        return a.swapaxes(-1, -2)  # what `transpose` computes, without dispatch (nothing records)
    ndim = len(shape_of(a))
    axes = tuple(range(ndim - 2)) + (ndim - 1, ndim - 2)
    return prim("transpose")(a, axes=axes)


def _reshape(a, shape):
    return prim("reshape")(a, shape=tuple(shape))


def _as_row(v):
    """(..., n) -> (..., 1, n): multiplying a matrix by it scales its columns."""
    shape = _shape(v)
    return _reshape(v, shape[:-1] + (1,) + shape[-1:])


def _as_column(v):
    """(..., n) -> (..., n, 1): multiplying a matrix by it scales its rows."""
    return _reshape(v, _shape(v) + (1,))


def _as_matrix_scale(s):
    """(...) -> (..., 1, 1): one scalar per matrix of a batch."""
    return _reshape(s, _shape(s) + (1, 1))


def _sum_last(a, count):
    ndim = len(shape_of(a))
    return prim("sum")(a, axis=tuple(range(ndim - count, ndim)), keepdims=False)


def _is_complex(a):
    return _dtype(a).kind == "c"


def _real_dtype(a):
    """a's real floating dtype (float32 for complex64); float64 for integers."""
    dtype = _dtype(a)
    return np.finfo(dtype).dtype if dtype.kind in "fc" else np.dtype(np.float64)


def _conj(a):
    """conj(a) for a complex a; a real a itself, with nothing recorded."""
    return prim("conj")(a) if _is_complex(a) else a


def _real(a):
    return prim("real")(a) if _is_complex(a) else a


def mH(a):
    """The conjugate transpose of a batch of matrices (mT of a real one)."""
    return _conj(mT(a))


def _adjoint(a, conjugate):
    """mT(a), conjugated when `conjugate`: for a tangent or cotangent, whose rule decides by
    its primal's dtype (a real primal's tangent may be complex, and is not conjugated)."""
    return prim("conj")(mT(a)) if conjugate else mT(a)


def _eye_like(a):
    return np.eye(_shape(a)[-1], dtype=_real_dtype(a))


def _real_diagonal(a):
    """The real part of a's diagonal, as a diagonal matrix."""
    return prim("real")(a) * _eye_like(a)


def _tril(a, k=0):
    return prim("tril")(a, k=k)


def _triu(a, k=0):
    return prim("triu")(a, k=k)


def _from_lower(t, hermitian=False):
    """The symmetric matrix NumPy reads from t's lower triangle (eigh, cholesky). A Hermitian
    one (complex input) mirrors the strict lower triangle conjugated and keeps the real part of
    the diagonal: LAPACK never reads its imaginary part."""
    if not hermitian:
        return _tril(t) + mT(_tril(t, -1))
    lower = _tril(t, -1)
    return lower + prim("conj")(mT(lower)) + _real_diagonal(t)


def from_lower(a):
    """The symmetric (Hermitian, for a complex a) matrix NumPy's eigh reads from a's lower
    triangle: for pinv(hermitian=True) and friends, differentiated onto that triangle."""
    return _from_lower(a, _is_complex(a))


def _from_lower_adjoint(p, hermitian=False):
    """Adjoint of `_from_lower`: the cotangent lands on the lower triangle only (on the real
    part of the diagonal, for a Hermitian input)."""
    if not hermitian:
        return _tril(p) + _tril(mT(p), -1)
    return _tril(p + prim("conj")(mT(p)), -1) + _real_diagonal(p)


def _lower_halved(a):
    """Lower triangle with the diagonal halved (cholesky's Phi)."""
    return _tril(a, -1) + 0.5 * (a * _eye_like(a))


def _inverse_gaps(values):
    """F_ij = 1 / (values_j - values_i) off the diagonal, 0 on it (assumes distinct values)."""
    gaps = _as_row(values) - _as_column(values)
    diagonal = np.eye(_shape(values)[-1], dtype=bool)
    return select(diagonal, 0.0, 1.0 / select(diagonal, 1.0, gaps))


# ----- matmul ------------------------------------------------------------------------------------
def _matmul_vjp_first(g, x, y):
    # C = A B: dA = dC B^T. A 1-d operand is a row (or column) that NumPy drops from the result.
    x_ndim, y_ndim = len(shape_of(x)), len(shape_of(y))
    if y_ndim == 1:
        return _as_column(g) * y
    if x_ndim == 1:
        return matmul(_as_row(g), mT(y))[..., 0, :]
    return matmul(g, mT(y))


def _matmul_vjp_second(g, x, y):
    # dB = A^T dC
    x_ndim, y_ndim = len(shape_of(x)), len(shape_of(y))
    if x_ndim == 1:
        if y_ndim == 1:
            return g * x
        return _reshape(x, (-1, 1)) * _as_row(g)
    if y_ndim == 1:
        return matmul(mT(x), _as_column(g))[..., 0]
    return matmul(mT(x), g)


def _matmul_batch(values, batched, size):
    # Each example's operands made at least 2-d (a vector is a row on the left, a column on the
    # right, as NumPy reads it), batched ones padded to a common rank so that their batch axes
    # line up and unbatched ones broadcast; the added axes are dropped from the result. Two
    # cases are one matrix product for the whole batch instead of one per example: a batch of
    # row vectors times a matrix, and a matrix times a batch of column vectors.
    (x, y), (x_batched, y_batched) = values, batched
    x_shape = shape_of(x)[x_batched:]
    y_shape = shape_of(y)[y_batched:]
    if x_batched and not y_batched and len(y_shape) == 2:
        # Every row of every example times one matrix: a single (B*..., k) @ (k, m) product.
        rows = _reshape(x, (-1, y_shape[0]))
        out_stack = x_shape[:-1]
        return _reshape(matmul(rows, y), (size,) + out_stack + y_shape[-1:])
    if y_batched and not x_batched and len(x_shape) == 2 and (
        len(y_shape) == 1 or y_shape[-1] == 1
    ):
        # One matrix times a vector (a column) per example: x @ y_b for every b is the row
        # y_b x^T, so all of them are a single (B*..., k) @ (k, n) product.
        rows = _reshape(y, (-1, x_shape[1]))
        out_shape = y_shape[:-2] + (x_shape[0],) + (y_shape[-1:] if len(y_shape) > 1 else ())
        return _reshape(matmul(rows, mT(x)), (size,) + out_shape)
    x2 = x_shape if len(x_shape) > 1 else (1,) + x_shape
    y2 = y_shape if len(y_shape) > 1 else y_shape + (1,)
    stack = np.broadcast_shapes(x2[:-2], y2[:-2])
    out_shape = stack + (x2[-2],) * (len(x_shape) > 1) + (y2[-1],) * (len(y_shape) > 1)
    if x2 != x_shape:
        x = _reshape(x, (size,) * x_batched + x2)
    if y2 != y_shape:
        y = _reshape(y, (size,) * y_batched + y2)
    rank = len(stack) + 2
    x = pad_rank(x, rank) if x_batched else x
    y = pad_rank(y, rank) if y_batched else y
    return _reshape(matmul(x, y), (size,) + out_shape)


matmul = defprimitive(
    "matmul",
    np.matmul,
    saves=(X, Y),
    vjp=(_matmul_vjp_first, _matmul_vjp_second),
    jvp=(lambda t, x, y: matmul(t, y), lambda t, x, y: matmul(x, t)),
    family="linalg",
    formula=(("{g} @ {1}ᵀ", "{t} @ {1}"), ("{0}ᵀ @ {g}", "{0} @ {t}")),
    batch=_matmul_batch,
)


# ----- einsum ------------------------------------------------------------------------------------
# The primitive contracts two operands with explicit subscripts, one letter per axis
# ("ij,jk->ik"). `contract` reduces any number of operands to it pair by pair, in the order
# np.einsum_path finds (what np.einsum(optimize=True) does); a single operand is paired with a
# 0-d one. `parse_einsum` turns NumPy's forms (implicit output, "...", sublists) into explicit.
_LETTERS = string.ascii_letters


def _einsum_impl(x, y, subscripts):
    # Large pairs go through BLAS (tensordot) when NumPy's optimiser sees a way.
    return np.einsum(subscripts, x, y, optimize=min(np.size(x), np.size(y)) > 4096)


def _split_subscripts(subscripts):
    inputs, output = subscripts.split("->")
    return inputs.split(","), output


def _einsum_vjp(g, first, second, input_index, subscripts):
    # out = sum over the other letters of A_0 A_1, linear in A_k: its cotangent is g contracted
    # with the other operand onto A_k's letters. A letter repeated in A_k (a diagonal, "ii,->i")
    # is renamed and tied back by an identity matrix; a letter found only in A_k (summed away,
    # "ij,->i") gets a ones vector, which broadcasts g along it.
    inputs, output = _split_subscripts(subscripts)
    operands, other_index = (first, second), 1 - input_index
    target_term, shape = inputs[input_index], _shape(operands[input_index])
    terms, arrays = [output, inputs[other_index]], [g, operands[other_index]]
    fresh = iter(letter for letter in _LETTERS if letter not in subscripts)
    dtype = _real_dtype(g)
    renamed = []
    for letter, size in zip(target_term, shape, strict=True):
        if letter in renamed:
            new = next(fresh)
            terms.append(letter + new)
            arrays.append(np.eye(size, dtype=dtype))
            letter = new
        renamed.append(letter)
    present = set("".join(terms))
    for letter, size in zip(renamed, shape, strict=True):
        if letter not in present:
            terms.append(letter)
            arrays.append(np.ones(size, dtype=dtype))
    return contract(arrays, terms, "".join(renamed))


def _einsum_jvp_first(t, first, second, subscripts):
    return einsum(t, second, subscripts=subscripts)


def _einsum_jvp_second(t, first, second, subscripts):
    return einsum(first, t, subscripts=subscripts)


def _einsum_batch(values, batched, size, subscripts):
    # A fresh letter for the batch axis, in front of every batched operand and of the output.
    letter = next(c for c in _LETTERS if c not in subscripts)
    inputs, output = _split_subscripts(subscripts)
    terms = [letter + term if is_batched else term for term, is_batched in zip(inputs, batched)]
    return einsum(*values, subscripts=",".join(terms) + "->" + letter + output)


einsum = defprimitive(
    "einsum",
    _einsum_impl,
    saves=(X, Y),
    vjp=PerInput(_einsum_vjp),
    jvp=(_einsum_jvp_first, _einsum_jvp_second),  # bilinear: d(A B) = dA B + A dB
    family="linalg",
    batch=_einsum_batch,
)


def contract(arrays, terms, output):
    """Einstein summation of any number of operands (explicit letters, no '...') as a sequence
    of two-operand `einsum` primitives."""
    arrays, terms = list(arrays), list(terms)
    if len(arrays) == 1:
        arrays.append(np.ones((), dtype=_dtype(arrays[0])))
        terms.append("")
    for pair in _contraction_order(arrays, terms, output):
        i, j = sorted(pair)
        second_array, second_term = arrays.pop(j), terms.pop(j)
        first_array, first_term = arrays.pop(i), terms.pop(i)
        later = output + "".join(terms)
        kept = "".join(dict.fromkeys(c for c in first_term + second_term if c in later))
        spec = f"{first_term},{second_term}->{kept}"
        arrays.append(einsum(first_array, second_array, subscripts=spec))
        terms.append(kept)
    (first_array, second_array), (first_term, second_term) = arrays, terms
    return einsum(first_array, second_array, subscripts=f"{first_term},{second_term}->{output}")


def _contraction_order(arrays, terms, output):
    """Pairs to contract (positions in the shrinking list, each result appended at its end, as
    NumPy numbers them), all but the last: np.einsum_path's greedy order for three or more."""
    count = len(arrays)
    if count <= 2:
        return []
    shapes = [np.broadcast_to(np.empty((), dtype=np.int8), _shape(a)) for a in arrays]
    path = np.einsum_path(",".join(terms) + "->" + output, *shapes, optimize="greedy")[0][1:]
    pairs = [tuple(step) for step in path]
    if len(pairs) != count - 1 or any(len(pair) != 2 for pair in pairs):
        pairs = [(0, 1)] * (count - 1)  # not a plain sequence of pairs: go left to right
    return pairs[:-1]


def _sublist_to_letters(sublist):
    parts = []
    for item in sublist:
        if item is Ellipsis:
            parts.append("...")
        elif isinstance(item, (int, np.integer)) and 0 <= item < len(_LETTERS):
            parts.append(_LETTERS[item])
        else:
            raise ValueError(f"einsum: subscript {item!r} in a sublist must be an int in [0, 52)")
    return "".join(parts)


def einsum_arguments(args):
    """(subscripts string, operands) from either call form of np.einsum."""
    if isinstance(args[0], str):
        return args[0], list(args[1:])
    pairs, output = (args[:-1], args[-1]) if len(args) % 2 else (args, None)
    operands = list(pairs[0::2])
    subscripts = ",".join(_sublist_to_letters(s) for s in pairs[1::2])
    if output is not None:
        subscripts += "->" + _sublist_to_letters(output)
    return subscripts, operands


def parse_einsum(subscripts, shapes):
    """NumPy einsum subscripts -> explicit form ('ab,bc->ac'): '...' expanded into letters
    using the operand shapes, the implicit output (letters seen once, sorted) written out."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"einsum: subscripts {subscripts!r} name {len(terms)} operand(s) but "
            f"{len(shapes)} were given"
        )
    unused = [c for c in _LETTERS if c not in subscripts]
    ellipsis_ndims = [
        _ellipsis_ndim(term, shape, subscripts) for term, shape in zip(terms, shapes, strict=True)
    ]
    broadcast = max(ellipsis_ndims, default=0)
    if broadcast > len(unused):
        raise ValueError(f"einsum: {subscripts!r} leaves too few letters to expand '...'")
    batch = "".join(unused[:broadcast])
    terms = [
        t.replace("...", batch[broadcast - n :]) for t, n in zip(terms, ellipsis_ndims, strict=True)
    ]
    if arrow:
        if broadcast and "..." not in output:
            raise ValueError(
                f"einsum: {subscripts!r} broadcasts over '...' but its output has no '...'; "
                "add '...' to the output"
            )
        output = output.replace("...", batch)
    else:
        letters = "".join(terms)
        output = batch + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1 and c not in batch)
        )
    _check_einsum(terms, output, shapes, subscripts)
    return ",".join(terms) + "->" + output


def _ellipsis_ndim(term, shape, subscripts):
    letters = term.replace("...", "")
    if not all(c in _LETTERS for c in letters) or term.count("...") > 1:
        raise ValueError(f"einsum: invalid subscripts term {term!r} in {subscripts!r}")
    extra = len(shape) - len(letters)
    if extra < 0 or (extra and "..." not in term):
        raise ShapeError(
            f"einsum: term {term!r} of {subscripts!r} names {len(letters)} axes but its "
            f"operand has shape {tuple(shape)}; give one letter per axis (or use '...')"
        )
    return extra


def _check_einsum(terms, output, shapes, subscripts):
    sizes = {}
    for term, shape in zip(terms, shapes, strict=True):
        for letter, size in zip(term, shape, strict=True):
            if size != 1 and sizes.setdefault(letter, size) != size:
                raise ShapeError(
                    f"einsum: {subscripts!r} gives letter {letter!r} sizes {sizes[letter]} and "
                    f"{size} (operand shapes {[tuple(s) for s in shapes]}); they must match or be 1"
                )
    letters = set("".join(terms))
    if len(set(output)) != len(output) or not set(output) <= letters:
        raise ValueError(
            f"einsum: output {output!r} of {subscripts!r} must name distinct letters that "
            "appear in the inputs"
        )


def einsum_call(subscripts, *operands):
    """einsum with NumPy's subscripts, for rules and composites."""
    inputs, output = _split_subscripts(parse_einsum(subscripts, [_shape(op) for op in operands]))
    return contract(operands, inputs, output)


# ----- inverse, determinants, solve --------------------------------------------------------------
# Holomorphic (rational in the entries): the same rules for complex matrices, plain transposes.
# d(A^{-1}) = -A^{-1} dA A^{-1}  =>  Abar = -A^{-T} G A^{-T}
inv = defprimitive(
    "inv",
    np.linalg.inv,
    saves=(OUT,),
    vjp=(lambda g, out: -matmul(mT(out), matmul(g, mT(out))),),
    jvp=(lambda t, out: -matmul(out, matmul(t, out)),),
    family="linalg",
    batch=STACKED,
)


def _trace_of_product(a, b):
    """tr(A^T B) per matrix of a batch: the sum of A * B over the last two axes."""
    return _sum_last(a * b, 2)


# ----- det and the cofactor matrix ---------------------------------------------------------------
# det is a polynomial in the entries, d det A = <C(A), dA>, with C(A) the cofactor matrix
# (C_ij = (-1)^(i+j) det of A without row i and column j; C = det(A) A^{-T} when A is
# invertible). Its rules therefore go through C, which exists at singular A as well:
# det([[1, 2], [2, 4]]) has gradient [[4, -2], [-2, 1]], where det(A) A^{-T} cannot be formed.
det = defprimitive(
    "det",
    np.linalg.det,
    saves=(X,),
    vjp=(lambda g, x: _as_matrix_scale(g) * cofactor(x),),
    jvp=(lambda t, x: _trace_of_product(cofactor(x), t),),
    family="linalg",
    batch=STACKED,
)


def _cofactor_impl(a):
    # A = U S V^T gives C(A) = det(U) det(V) U diag(c) V^T with c_i the product of the other
    # singular values: no division, so exact rank deficiency is no special case. A complex
    # A = U S V^H gives C = det(A) A^{-T} = det(U) det(V^H) conj(U) diag(c) conj(V^H), the
    # phase det(U) det(V^H) a unit complex number.
    a = np.asarray(a)
    if a.shape[-1] == 0:
        return np.ones(a.shape, dtype=np.result_type(a, np.float16))
    u, s, vt = np.linalg.svd(a)
    others = _exclusive_products(s) * _exclusive_products(s[..., ::-1])[..., ::-1]
    if a.dtype.kind == "c":
        phases = np.linalg.det(u) * np.linalg.det(vt)
        return phases[..., None, None] * ((u.conj() * others[..., None, :]) @ vt.conj())
    signs = np.sign(np.linalg.det(u) * np.linalg.det(vt))
    return signs[..., None, None] * ((u * others[..., None, :]) @ vt)


def _exclusive_products(s):
    """s_0 ... s_{i-1} at i, along the last axis (NumPy: C's implementation is not traced)."""
    ones = np.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    return np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)


# dC at an invertible A: C = det(A) W with W = A^{-T}, d det = det <W, dA>, dW = -W dA^T W:
#   dC = <W, dA> C - C dA^T W    =>   Abar = <Cbar, C> W - W Cbar^T C.
# Those lose accuracy as det(A) A^{-T} does (like cond(A) eps), and fail at a singular A. There
# each C_ij is (-1)^(i+j) det(M_ij), M_ij the minor, so dC_ij = (-1)^(i+j) <C(M_ij), dM_ij>:
# the same rule one size down (down to 1x1, whose C = [[1]] is constant). Exact at any A, to
# any order, but it costs n^2 cofactor matrices of size n - 1 (n^4 numbers): used for small
# matrices, where that is cheap, and where A is ill-conditioned.
def _cofactor_jvp(t, x, out):
    if _shape(x)[-1] == 1:
        return 0.0 * t
    if _by_inverse(x):
        w = mT(inv(x))
        return _as_matrix_scale(_trace_of_product(w, t)) * out - matmul(out, matmul(mT(t), w))
    index, signs = _minors(_shape(x)[-1], _real_dtype(x))
    minors_cofactor = cofactor(prim("getitem")(x, index=index))
    return signs * _sum_last(minors_cofactor * prim("getitem")(t, index=index), 2)


def _cofactor_vjp(g, x, out):
    if _shape(x)[-1] == 1:
        return 0.0 * x
    if _by_inverse(x):
        w = mT(inv(x))
        return _as_matrix_scale(_trace_of_product(g, out)) * w - matmul(w, matmul(mT(g), out))
    index, signs = _minors(_shape(x)[-1], _real_dtype(x))
    minors_cofactor = cofactor(prim("getitem")(x, index=index))
    weighted = _as_matrix_scale(signs * g) * minors_cofactor
    return prim("scatter_add")(weighted, index=index, shape=_shape(x))


_MINORS_UP_TO = 4  # n: C of a 4x4 matrix's 16 minors is a few small SVDs


_INVERSE_UP_TO_CONDITION = 1e4  # the rules through A^{-1} keep ~12 of 16 digits there


def _by_inverse(x):
    """Whether the cofactor rules go through A^{-1}: for a batch of matrices larger than 4x4
    whose 2-norm condition numbers are all below 1e4."""
    # One decision for all examples of a vmap: both ways are right, this one is the faster.
    x = physical_value(x)
    if type(x) in TRACED_TYPES:  # staged by cr.jit: no values to decide by; minors serve all
        return False
    if x.shape[-1] <= _MINORS_UP_TO:
        return False
    with np.errstate(all="ignore"):
        condition = np.linalg.cond(x)
    return bool(np.all(condition < _INVERSE_UP_TO_CONDITION))


def _minors(n, dtype):
    """The index taking (..., n, n) to its minors (..., n, n, n-1, n-1), [i, j] = M_ij, and the
    cofactor signs (-1)^(i+j)."""
    kept = np.array([[r for r in range(n) if r != i] for i in range(n)])  # rows but i
    index = (Ellipsis, kept[:, None, :, None], kept[None, :, None, :])
    signs = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))
    return index, signs.astype(dtype)


cofactor = defprimitive(
    "cofactor",
    _cofactor_impl,
    saves=(X, OUT),
    vjp=(_cofactor_vjp,),
    jvp=(_cofactor_jvp,),
    family="linalg",
    batch=STACKED,
)

# d log|det A| = tr(A^{-1} dA)  =>  Abar = g A^{-T}. For a complex A, log|det A| = Re(log det A)
# of the holomorphic log det, whose derivative is the same tr(A^{-1} dA): the JVP takes its real
# part, and the VJP of a real g is g A^{-T} unchanged (Re(g tr(A^{-1} dA)) = <g A^{-T}, dA>).
def _logabsdet_jvp(t, x):
    change = _trace_of_product(mT(inv(x)), t)
    return prim("real")(change) if _is_complex(x) else change


logabsdet = defprimitive(
    "logabsdet",
    lambda x: np.linalg.slogdet(x)[1],
    saves=(X,),
    vjp=(lambda g, x: _as_matrix_scale(g) * mT(inv(x)),),
    jvp=(_logabsdet_jvp,),
    family="linalg",
    batch=STACKED,
)

# X = A^{-1} B, b a (stack of) matrices: dX = A^{-1} (dB - dA X)  =>  Bbar = A^{-T} G,
# Abar = -Bbar X^T. (chainrule.numpy.linalg.solve turns a 1-d b into a column first.)
solve = defprimitive(
    "solve",
    np.linalg.solve,
    saves=(X, OUT),
    vjp=(
        lambda g, a, out: -matmul(solve(mT(a), g), mT(out)),
        lambda g, a, out: solve(mT(a), g),
    ),
    jvp=(
        lambda t, a, out: -solve(a, matmul(t, out)),
        lambda t, a, out: solve(a, t),
    ),
    family="linalg",
    batch=POINTWISE,  # broadcasts its stacks of matrices like operands of an elementwise op
)


# ----- cholesky ----------------------------------------------------------------------------------
# A = L L^H (L^T for a real A), L lower triangular with a real positive diagonal; NumPy reads only
# A's lower triangle (and the real part of its diagonal), so dA = from_lower(t). Then
# L^{-1} dA L^{-H} = L^{-1} dL + (L^{-1} dL)^H with L^{-1} dL lower triangular with a real
# diagonal, so dL = L Phi(L^{-1} dA L^{-H}), Phi taking the strict lower triangle and half the
# diagonal. Phi is its own adjoint under <W, T> = Re(sum(W * T)), and
# Re<Lbar, L X> = Re<L^T Lbar, X>, Re<P, L^{-1} H L^{-H}> = Re<L^{-T} P conj(L^{-1}), H>, so
#   Abar = from_lower_adjoint(L^{-T} Phi(L^T Lbar) conj(L^{-1})).
def _cholesky_jvp(t, out):
    inverse = inv(out)
    change = matmul(inverse, matmul(_from_lower(t, _is_complex(out)), mH(inverse)))
    return matmul(out, _lower_halved(change))


def _cholesky_vjp(g, out):
    inverse = inv(out)
    return _from_lower_adjoint(
        matmul(mT(inverse), matmul(_lower_halved(matmul(mT(out), g)), _conj(inverse))),
        _is_complex(out),
    )


cholesky = defprimitive(
    "cholesky",
    np.linalg.cholesky,
    saves=(OUT,),
    vjp=(_cholesky_vjp,),
    jvp=(_cholesky_jvp,),
    family="linalg",
    batch=STACKED,
)


# ----- the phase of complex eigenvectors and singular vectors -------------------------------------
# A complex eigenvector is defined up to a phase e^{i phi}, which NumPy leaves to the algorithm.
# chainrule fixes it as LAPACK's geev does for eig: each column's largest-modulus entry is made
# real and positive (exactly). The vectors are then a smooth function of the matrix (away from
# ties for the largest entry), which finite differences see, and their derivatives exist: a
# tangent du of any smooth choice of the column becomes
#   dv = du + i phi v,  phi = -Im(du_k) / v_k  (k the pivot entry, v_k real),
# and the adjoint of that map takes the cotangent G of dv to
#   G - i M row(Im(h) / v_k),  h_i = sum_j G_ji V_ji,  M the pivots' one-hot mask.
# Functions of the vectors that do not see the phase (|v_i^H B v_i|, V diag(f) V^H) get the
# same derivative whatever the convention; for them Im(h) = 0.
def _fix_phases(vectors):
    """Each column of (..., n, k) rotated so that its largest-modulus entry is real positive."""
    magnitude = np.abs(vectors)
    pivot = np.argmax(magnitude, axis=-2)[..., None, :]
    size = np.take_along_axis(magnitude, pivot, axis=-2)
    phase = np.conj(np.take_along_axis(vectors, pivot, axis=-2)) / np.where(size == 0, 1, size)
    rotated = vectors * phase
    np.put_along_axis(rotated, pivot, size.astype(rotated.dtype), axis=-2)
    return rotated, phase


def _pivot_mask(vectors):
    """The one-hot mask (real, (..., n, k)) of each column's pivot: its largest-modulus entry
    among the exactly real ones, as `_fix_phases` and LAPACK's geev leave them."""
    v = const(vectors)
    score = select(prim("imag")(v) == 0, prim("abs")(v), -1.0)
    rank = len(_shape(v))
    pivot = prim("argmax")(score, axis=rank - 2, keepdims=True)
    rows = np.arange(_shape(v)[-2]).reshape(-1, 1)
    return prim("astype")(prim("equal")(rows, pivot), dtype=_real_dtype(v))


def _pivot_values(vectors, mask):
    """v_k of each column: (..., k), real."""
    return _sum_last_but_one(mask * prim("real")(vectors))


def _pivot_held_real(du, vectors, mask):
    """i phi v (see above): added to du, it keeps each pivot entry real."""
    phi = -_sum_last_but_one(mask * prim("imag")(du)) / _pivot_values(vectors, mask)
    return vectors * _as_row(1j * phi)


def _pivot_held_real_adjoint(g, vectors, mask):
    """The adjoint of du -> du + _pivot_held_real(du, ...), applied to g."""
    h = _sum_last_but_one(g * vectors)
    return g - 1j * (mask * _as_row(prim("imag")(h) / _pivot_values(vectors, mask)))


# ----- eigh: values and vectors as two primitives -------------------------------------------------
# A = V diag(w) V^H (V^T if real), A read from its lower triangle (dA = from_lower(t)), w real
# and distinct, F_ij = 1/(w_j - w_i) off the diagonal:
#   dw = Re diag(V^H dA V)           =>  Abar = conj(V) diag(wbar) V^T
#   dV = V (F o V^H dA V)            =>  Abar = conj(V) (F o V^T Vbar) V^T
# each then mapped onto the lower triangle by from_lower_adjoint. The dV there keeps
# V^H dV zero on the diagonal; for a complex A the vectors follow the phase convention above
# (a real A's keep NumPy's signs, which are locally smooth), so dV gains i phi v.
def _eigh_values_vjp(g, x):
    vectors = eigh_vectors(x)
    return _from_lower_adjoint(
        matmul(_conj(vectors) * _as_row(g), mT(vectors)), _is_complex(x)
    )


def _eigh_values_jvp(t, x):
    vectors = eigh_vectors(x)
    change = _sum_last_but_one(_conj(vectors) * matmul(_from_lower(t, _is_complex(x)), vectors))
    return prim("real")(change) if _is_complex(x) else change


def _sum_last_but_one(a):
    """Sum over the rows of each matrix: (..., m, n) -> (..., n)."""
    ndim = len(shape_of(a))
    return prim("sum")(a, axis=(ndim - 2,), keepdims=False)


def _eigh_vectors_vjp(g, x, vectors):
    gaps = _inverse_gaps(eigh_values(x))
    if _is_complex(x):
        g = _pivot_held_real_adjoint(g, vectors, _pivot_mask(vectors))
    rotated = matmul(gaps * matmul(mT(vectors), g), mT(vectors))
    return _from_lower_adjoint(matmul(_conj(vectors), rotated), _is_complex(x))


def _eigh_vectors_jvp(t, x, vectors):
    gaps = _inverse_gaps(eigh_values(x))
    change = matmul(mH(vectors), matmul(_from_lower(t, _is_complex(x)), vectors))
    du = matmul(vectors, gaps * change)
    if _is_complex(x):
        du = du + _pivot_held_real(du, vectors, _pivot_mask(vectors))
    return du


def _eigh_vectors_impl(x):
    vectors = np.linalg.eigh(x)[1]
    return _fix_phases(vectors)[0] if vectors.dtype.kind == "c" else vectors


eigh_values = defprimitive(
    "eigh_values",
    np.linalg.eigvalsh,
    saves=(X,),
    vjp=(_eigh_values_vjp,),
    jvp=(_eigh_values_jvp,),
    family="linalg",
    batch=STACKED,
)
eigh_vectors = defprimitive(
    "eigh_vectors",
    _eigh_vectors_impl,
    saves=(X, OUT),
    vjp=(_eigh_vectors_vjp,),
    jvp=(_eigh_vectors_jvp,),
    family="linalg",
    batch=STACKED,
)


# ----- eig: eigenvalues and eigenvectors of a general square matrix, as two primitives -----------
# A = V diag(w) V^{-1}, eigenvalues distinct. Both outputs are complex (complex128 for float64
# input, complex64 for float32), even where NumPy would return real ones, as JAX does: a real
# matrix's eigenvalues turn complex as it moves, and an output's dtype must not depend on its
# values (nor differ between the examples of a vmap). With W = V^{-1} dA V, F_ij = 1/(w_j - w_i):
#   dw = diag(W)                    =>  Abar = V^{-T} diag(wbar) V^T
#   du = V (F o W)                  =>  Abar = V^{-T} (F o V^T Ubar) V^T
# du is the tangent of eigenvectors u with diag(V^{-1} du) = 0 (holomorphic in A). NumPy's
# (LAPACK geev's) vectors are normalised: unit 2-norm, largest-modulus entry real. So
#   dv = du + v c,  c = -Re(v^H du) - i Im(du_k) / v_k,
# which keeps Re(v^H dv) = 0 and dv_k real. Its adjoint takes the cotangent G of dv to
#   Ubar = G - conj(V) row(Re h) - i M row(Im(h) / v_k),  h_i = sum_j G_ji V_ji.
# Only R-linear (Re, Im): a complex tangent of a real A is split into real and imaginary parts.
# The eigenvalues' derivative holds at repeated eigenvalues of a diagonalisable A for symmetric
# functions of them (sum, product); the vectors' rules raise there (F is infinite).
def _eig_dtype(x):
    """complex64 for float32 (and smaller) input, complex128 for float64 and integers."""
    return np.result_type(x.dtype, np.complex64)


def _eig_values_impl(x):
    x = np.asarray(x)
    return np.linalg.eigvals(x).astype(_eig_dtype(x), copy=False)


def _eig_vectors_impl(x):
    x = np.asarray(x)
    return np.linalg.eig(x)[1].astype(_eig_dtype(x), copy=False)


def _eig_values_vjp(g, x):
    vectors = eig_vectors(x)
    return matmul(mT(inv(vectors)) * _as_row(g), mT(vectors))


def _eig_values_jvp(t, x):
    vectors = eig_vectors(x)
    return _sum_last_but_one(mT(inv(vectors)) * matmul(t, vectors))


def _eig_gaps(x):
    """F_ij = 1 / (w_j - w_i) for the eigenvalues of x; NonDifferentiableError if two of them
    coincide (to within rounding)."""
    values = eig_values(x)
    plain = const(values)
    count = _shape(plain)[-1]
    magnitude = prim("abs")(plain)
    largest = prim("amax")(magnitude, axis=(len(_shape(plain)) - 1,), keepdims=True)
    tolerance = _as_column(largest) * (count * np.finfo(_real_dtype(plain)).eps)
    close = prim("abs")(_as_row(plain) - _as_column(plain)) <= tolerance
    repeated = select(np.eye(count, dtype=bool), False, close)
    if np.any(physical_value(repeated)):
        raise NonDifferentiableError(
            f"eig: the eigenvectors of a matrix with a repeated eigenvalue (input shape "
            f"{_shape(x)}) have no derivative: any combination of the eigenvectors of a repeated "
            "eigenvalue is one, and 1 / (w_j - w_i) is infinite. Differentiate functions of the "
            "eigenvalues (cnp.linalg.eigvals), or keep the eigenvalues apart."
        )
    return _inverse_gaps(values)


def _eig_normalised(du, vectors):
    """dv = du + v c (see above): unit norm, each pivot entry held real."""
    mask = _pivot_mask(vectors)
    stretch = prim("real")(_sum_last_but_one(prim("conj")(vectors) * du))
    return du - vectors * _as_row(stretch) + _pivot_held_real(du, vectors, mask)


def _eig_normalised_adjoint(g, vectors):
    h = _sum_last_but_one(g * vectors)
    stretch_bar = prim("conj")(vectors) * _as_row(prim("real")(h))
    return _pivot_held_real_adjoint(g, vectors, _pivot_mask(vectors)) - stretch_bar


def _eig_vectors_jvp(t, x, vectors):
    if _is_complex(t) and not _is_complex(x):
        # The real matrix's R-linear rule, extended C-linearly: J(a + ib) = J a + i J b.
        real_part = _eig_vectors_jvp(prim("real")(t), x, vectors)
        return real_part + 1j * _eig_vectors_jvp(prim("imag")(t), x, vectors)
    du = matmul(vectors, _eig_gaps(x) * matmul(inv(vectors), matmul(t, vectors)))
    return _eig_normalised(du, vectors)


def _eig_vectors_vjp(g, x, vectors):
    u_bar = _eig_normalised_adjoint(g, vectors)
    w_bar = _eig_gaps(x) * matmul(mT(vectors), u_bar)
    return matmul(mT(inv(vectors)), matmul(w_bar, mT(vectors)))


eig_values = defprimitive(
    "eig_values",
    _eig_values_impl,
    saves=(X,),
    vjp=(_eig_values_vjp,),
    jvp=(_eig_values_jvp,),
    family="linalg",
    batch=STACKED,
)
eig_vectors = defprimitive(
    "eig_vectors",
    _eig_vectors_impl,
    saves=(X, OUT),
    vjp=(_eig_vectors_vjp,),
    jvp=(_eig_vectors_jvp,),
    family="linalg",
    batch=STACKED,
)


# ----- qr (reduced, m >= n): Q and R as two primitives -------------------------------------------
# A = Q R, R with a real diagonal (LAPACK's, also for complex A). With C = Q^H dA R^{-1}:
# Q^H dQ is anti-Hermitian (antisymmetric if real) and dR R^{-1} upper triangular with a real
# diagonal, so their sum C splits as dR R^{-1} = triu(C, 1) + tril(C, -1)^H + Re diag(C) =: K(C).
# Then
#   dR = K(C) R,  dQ = dA R^{-1} - Q K(C),
# K's adjoint under <W, T> = Re(sum(W * T)) is K*(Kbar) = triu(Kbar, 1) + tril(Kbar^H, -1) +
# Re diag(Kbar), and Re<P, Q^H dA R^{-1}> = Re<conj(Q) P R^{-T}, dA>.
# chainrule.numpy.linalg.qr builds wide matrices (m < n) from the square case.
def _qr_k(c, conjugate):
    if not conjugate:
        return _triu(c) + mT(_tril(c, -1))
    return _triu(c, 1) + prim("conj")(mT(_tril(c, -1))) + _real_diagonal(c)


def _qr_k_adjoint(k_bar, conjugate):
    if not conjugate:
        return _triu(k_bar) + _tril(mT(k_bar), -1)
    return _triu(k_bar, 1) + _tril(prim("conj")(mT(k_bar)), -1) + _real_diagonal(k_bar)


def _require_tall(x, name):
    rows, cols = _shape(x)[-2:]
    if rows < cols:
        raise NotImplementedError(
            f"{name}: the derivative of a reduced QR of a wide {rows}x{cols} matrix is not a "
            "primitive rule; use chainrule.numpy.linalg.qr, which handles wide matrices"
        )


def _qr_q_jvp(t, x, q):
    _require_tall(x, "qr_q")
    r_inverse = inv(matmul(mH(q), x))
    c = matmul(mH(q), matmul(t, r_inverse))
    return matmul(t, r_inverse) - matmul(q, _qr_k(c, _is_complex(x)))


def _qr_q_vjp(g, x, q):
    # Abar = (Qbar - conj(Q) K*(Q^T Qbar)) R^{-T}
    _require_tall(x, "qr_q")
    r_inverse = inv(matmul(mH(q), x))
    k_bar = _qr_k_adjoint(matmul(mT(q), g), _is_complex(x))
    return matmul(g - matmul(_conj(q), k_bar), mT(r_inverse))


def _qr_r_jvp(t, x, r):
    _require_tall(x, "qr_r")
    r_inverse = inv(r)
    q = matmul(x, r_inverse)
    return matmul(_qr_k(matmul(mH(q), matmul(t, r_inverse)), _is_complex(x)), r)


def _qr_r_vjp(g, x, r):
    # Abar = conj(Q) K*(Rbar R^T) R^{-T}
    _require_tall(x, "qr_r")
    r_inverse = inv(r)
    q = matmul(x, r_inverse)
    k_bar = _qr_k_adjoint(matmul(g, mT(r)), _is_complex(x))
    return matmul(_conj(q), matmul(k_bar, mT(r_inverse)))


qr_q = defprimitive(
    "qr_q",
    lambda x: np.linalg.qr(x, mode="reduced")[0],
    saves=(X, OUT),
    vjp=(_qr_q_vjp,),
    jvp=(_qr_q_jvp,),
    family="linalg",
    batch=STACKED,
)
qr_r = defprimitive(
    "qr_r",
    lambda x: np.linalg.qr(x, mode="reduced")[1],
    saves=(X, OUT),
    vjp=(_qr_r_vjp,),
    jvp=(_qr_r_jvp,),
    family="linalg",
    batch=STACKED,
)


# ----- svd (full_matrices=False): U, S, Vt as three primitives ------------------------------------
# A = U S V^H (V^T if real), k = min(m, n), singular values distinct and nonzero. With
# dP = U^H dA V and F_ij = 1/(s_j^2 - s_i^2):
#   ds = Re diag(dP)
#   dU = U (F o (dP S + S dP^H)) + (I - U U^H) dA V S^{-1}  (+ U i diag(phi))
#   dV = V (F o (S dP + dP^H S)) + (I - V V^H) dA^H U S^{-1}  (+ V i diag(phi - Im diag(dP) / S))
# For a complex A, U follows the phase convention above (V the same phases, so that U S V^H
# is A): phi holds U's pivots real, and Im diag(dP) = S Im diag(U^H dU - V^H dV) ties V's
# phases to U's. The VJPs are the adjoints under <W, T> = Re(sum(W * T)), worked out beside
# each rule; dP's cotangent Pbar reaches A as conj(U) Pbar V^T.
def _svd_impl(x):
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    if u.dtype.kind == "c":
        u, phase = _fix_phases(u)
        vt = vt * np.conj(np.swapaxes(phase, -1, -2))
    return u, s, vt


def _diagonal(a):
    return _sum_last_but_one(a * _eye_like(a))


def _svd_s_vjp(g, x):
    # Abar = conj(U) diag(sbar) V^T
    return _conj(matmul(svd_u(x) * _as_row(g), svd_vt(x)))


def _svd_s_jvp(t, x):
    u = svd_u(x)
    change = _sum_last_but_one(_conj(u) * matmul(t, mH(svd_vt(x))))
    # Re(...) belongs to a complex A (s is real there); for a real A the map t -> u^T t v is
    # already real-valued on real tangents, and a complex tangent (asked for) extends it.
    return _real(change) if _is_complex(x) else change


def _svd_u_free_jvp(t, u, s, v, conjugate):
    """dU without its phase term: U (F o (dP S + S dP^H)) + (I - U U^H) dA V S^{-1}."""
    t_v = matmul(t, v)
    dp = matmul(mH(u), t_v)
    dp_s = dp * _as_row(s)  # dP S
    rotation = matmul(u, _inverse_gaps(s * s) * (dp_s + _adjoint(dp_s, conjugate)))
    return rotation + (t_v - matmul(u, dp)) / _as_row(s)


def _svd_u_free_vjp(g, u, s, vt, conjugate):
    """The adjoint of `_svd_u_free_jvp`: Pbar = (J + J^H) S with J = F o U^T Ubar;
    Abar = conj(U) Pbar V^T + (Ubar - conj(U) U^T Ubar) S^{-1} V^T."""
    u_g = matmul(mT(u), g)
    j = _inverse_gaps(s * s) * u_g
    p_bar = (j + _adjoint(j, conjugate)) * _as_row(s)
    return matmul(matmul(_conj(u), p_bar) + (g - matmul(_conj(u), u_g)) / _as_row(s), _conj(vt))


def _svd_u_jvp(t, x, u):
    s, v = svd_s(x), mH(svd_vt(x))
    du = _svd_u_free_jvp(t, u, s, v, _is_complex(x))
    if _is_complex(x):
        du = du + _pivot_held_real(du, u, _pivot_mask(u))
    return du


def _svd_u_vjp(g, x, u):
    s, vt = svd_s(x), svd_vt(x)
    if _is_complex(x):
        g = _pivot_held_real_adjoint(g, u, _pivot_mask(u))
    return _svd_u_free_vjp(g, u, s, vt, _is_complex(x))


def _svd_vt_jvp(t, x, vt):
    u, s = svd_u(x), svd_s(x)
    conjugate = _is_complex(x)
    v = mH(vt)
    dp = matmul(mH(u), matmul(t, v))
    s_dp = _as_column(s) * dp  # S dP
    rotation = matmul(v, _inverse_gaps(s * s) * (s_dp + _adjoint(s_dp, conjugate)))
    t_u = matmul(_adjoint(t, conjugate), u)
    dv = rotation + (t_u - matmul(v, matmul(mH(v), t_u))) / _as_row(s)
    if conjugate:
        du = _svd_u_free_jvp(t, u, s, v, True)
        mask = _pivot_mask(u)
        phi = -_sum_last_but_one(mask * prim("imag")(du)) / _pivot_values(u, mask)
        dv = dv + v * _as_row(1j * (phi - prim("imag")(_diagonal(dp)) / s))
    return _adjoint(dv, conjugate)


def _svd_vt_vjp(g, x, vt):
    # g = Vtbar, Vbar = g^H. Pbar = S (K + K^H) with K = F o V^T Vbar;
    # Abar = conj(U) Pbar V^T + conj(U) S^{-1} Vbar^H (I - conj(V) V^T).
    # Complex: with h_i = sum_j Vbar_ji V_ji, the phase term's adjoint adds
    # -i Im(h) / S to Pbar's diagonal and sends -i M row(Im(h) / u_k) back through dU.
    u, s = svd_u(x), svd_s(x)
    conjugate = _is_complex(x)
    g_v = matmul(g, mT(vt))  # G conj(V), and V^T Vbar = (G conj(V))^H
    k = _inverse_gaps(s * s) * _adjoint(g_v, conjugate)
    p_bar = _as_column(s) * (k + _adjoint(k, conjugate))
    extra = None
    if conjugate:
        h_imag = -prim("imag")(_sum_last(g * vt, 1))  # Im(h): h = conj(sum_j G_ij Vt_ij)
        p_bar = p_bar + _as_row(-1j * h_imag / s) * _eye_like(p_bar)
        mask = _pivot_mask(u)
        u_bar = -1j * (mask * _as_row(h_imag / _pivot_values(u, mask)))
        extra = _svd_u_free_vjp(u_bar, u, s, vt, True)
    vt_c = _conj(vt)
    a_bar = matmul(_conj(u), matmul(p_bar, vt_c) + (g - matmul(g_v, vt_c)) / _as_column(s))
    return a_bar if extra is None else a_bar + extra


svd_u = defprimitive(
    "svd_u",
    lambda x: _svd_impl(x)[0],
    saves=(X, OUT),
    vjp=(_svd_u_vjp,),
    jvp=(_svd_u_jvp,),
    family="linalg",
    batch=STACKED,
)
svd_s = defprimitive(
    "svd_s",
    lambda x: np.linalg.svd(x, compute_uv=False),
    saves=(X,),
    vjp=(_svd_s_vjp,),
    jvp=(_svd_s_jvp,),
    family="linalg",
    batch=STACKED,
)
svd_vt = defprimitive(
    "svd_vt",
    lambda x: _svd_impl(x)[2],
    saves=(X, OUT),
    vjp=(_svd_vt_vjp,),
    jvp=(_svd_vt_jvp,),
    family="linalg",
    batch=STACKED,
)


# ----- Euclidean norm over axes (vector 2-norm, Frobenius) ----------------------------------------
# |x| = sqrt(sum |x_i|^2): d|x| = Re(sum(conj(x) dx)) / |x|  =>  xbar = g conj(x) / |x| (for a
# real g, Re(g conj(x) dx) is g times the JVP's summand). Taking the subgradient 0 where
# |x| = 0 (no NaN: there x is 0 too, so dividing by 1 instead gives 0).
# What no rule here can do: make the Hessian of a smooth phi(|x|) at 0 right when the chain
# passes the kink (|x|^2 = 2 I there, but AD gives 0). The chain rule computes that Hessian as
# phi''(0) v v^T + phi'(|x|) H, with v and H whatever this rule says at 0; phi'(0) = 0 for a
# smooth phi, so the result is 2 v v^T for |x|^2: rank <= 1 for any v, never 2 I once x has two
# entries. Write sum(x * x) (or vecdot) for a squared norm. So a rule differentiated again at
# |x| = 0 (its x is then traced) raises rather than hand back such a Hessian; first derivatives
# (plain x) keep the subgradient 0.
def _kept(a, shape, axis, keepdims):
    return a if keepdims else _reshape(a, tuple(1 if i in axis else n for i, n in enumerate(shape)))


def _unit(x, out, axis, keepdims):
    """conj(x) / |x| (x / |x| if real), 0 where |x| = 0."""
    length = _kept(out, _shape(x), axis, keepdims)
    at_zero = const(length) == 0
    if _differentiated(x) and np.any(physical_value(at_zero)):
        raise NonDifferentiableError(
            f"norm: a second derivative was asked for where the norm is 0 (input shape "
            f"{_shape(x)}, axis {axis}). It does not exist there (the tip of a cone), and no "
            "convention gives every smooth composite its right value (the Hessian of "
            "norm(x) ** 2 at 0 is 2 I, the chain rule would give 0). For a squared norm write "
            "cnp.sum(x * x) or cnp.vdot(x, x), smooth everywhere; otherwise keep x away from 0."
        )
    return _conj(x) / select(at_zero, 1.0, length)


def _norm_impl(x, axis, keepdims):
    x = np.asarray(x)
    squares = x * x if x.dtype.kind != "c" else np.square(x.real) + np.square(x.imag)
    return np.sqrt(np.sum(squares, axis=axis, keepdims=keepdims))


def _norm_jvp(t, x, out, axis, keepdims):
    change = prim("sum")(t * _unit(x, out, axis, keepdims), axis=axis, keepdims=keepdims)
    return prim("real")(change) if _is_complex(x) else change


norm = defprimitive(
    "norm",
    _norm_impl,
    saves=(X, OUT),
    vjp=(lambda g, x, out, axis, keepdims:
         _kept(g, _shape(x), axis, keepdims) * _unit(x, out, axis, keepdims),),
    jvp=(_norm_jvp,),
    family="linalg",
    batch=ALONG_AXIS,
)


# ----- pinv: a primitive, so pinv(I) (equal singular values) is still differentiable --------------
# For P = A^+ where A's rank is locally constant (Golub & Pereyra):
#   dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P
#   =>  Abar = -P^T G P^T + conj((I - A P) G^T P P^H + P^H P G^T (I - P A))
# (the last two terms pair G with dA^H: Re<Z, dA^H> = Re<Z^H, dA>). For a real A, conj is the
# identity and ^H is ^T.
def _pinv_jvp(t, x, out, rcond):
    t_h = _adjoint(t, _is_complex(x))
    left = matmul(out, matmul(mH(out), t_h))  # P P^H dA^H
    right = matmul(t_h, matmul(mH(out), out))  # dA^H P^H P
    return (
        -matmul(out, matmul(t, out))
        + left - matmul(matmul(left, x), out)
        + right - matmul(out, matmul(x, right))
    )


def _pinv_vjp(g, x, out, rcond):
    conjugate = _is_complex(x)
    g_h = _adjoint(g, conjugate)
    x_c, out_c = _conj(x), _conj(out)
    left = matmul(g_h, matmul(out_c, mT(out)))  # G^H conj(P P^H)
    right = matmul(matmul(mT(out), out_c), g_h)  # conj(P^H P) G^H
    return (
        -matmul(mT(out), matmul(g, mT(out)))
        + left - matmul(x_c, matmul(out_c, left))
        + right - matmul(matmul(right, out_c), x_c)
    )


pinv = defprimitive(
    "pinv",
    lambda x, rcond: np.linalg.pinv(x, rcond=rcond),
    saves=(X, OUT),
    vjp=(_pinv_vjp,),
    jvp=(_pinv_jvp,),
    family="linalg",
    batch=STACKED,
)
