"""chainrule.numpy: signal (composites of the registry's primitives)."""

from chainrule.numpy._explain import wrap_public

__all__: list = []

wrap_public(globals(), __all__)
