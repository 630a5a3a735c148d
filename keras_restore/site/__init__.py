"""The static results site: ``python -m keras_restore.report`` (or ``keras-restore report``).

:func:`build_site` renders ``reproduce/results`` and ``saved_models/manifest.json`` into
``reproduce/results/site/``: an overview (with the adaptive-robustness leaderboard when
``adaptive_robustness.csv`` exists), one page per paper, and model cards. Jinja2 templates in
``templates/``, CSS and a small table sorter in ``static/``. See :mod:`keras_restore.site.build`.
"""

from keras_restore.site.build import (BuildResult, SiteBuildError, SiteInputError, build_site, read_csv,
                                      read_json)

__all__ = ["BuildResult", "SiteBuildError", "SiteInputError", "build_site", "read_csv", "read_json"]
