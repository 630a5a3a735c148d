"""The paper's five-phase defense pipeline, table by table (see :mod:`.run`)."""

from keras_restore.pipeline.run import run_table
from keras_restore.pipeline.scales import SCALES, Scale, get_scale
from keras_restore.pipeline.tables import TABLES, TableSpec

__all__ = ["run_table", "SCALES", "Scale", "get_scale", "TABLES", "TableSpec"]
