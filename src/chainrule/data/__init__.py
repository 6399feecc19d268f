"""`chainrule.data`: datasets, a seeded mini-batch loader, the bundled digits data set and
character-level text corpora."""

from chainrule.data.dataset import Dataset, TensorDataset
from chainrule.data.digits import load_digits
from chainrule.data.loader import DataLoader, default_collate
from chainrule.data.text import CharCorpus, pydoc_topics_text

__all__ = ["Dataset", "TensorDataset", "DataLoader", "default_collate", "load_digits",
           "CharCorpus", "pydoc_topics_text"]
