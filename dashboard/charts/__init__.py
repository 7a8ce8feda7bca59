"""Pure plotly builders: `TimelineData` or review frames in, `go.Figure` out.

Pages only call `st.plotly_chart`; the PDF report draws the same figures. Nothing here
imports streamlit or the database (tests/test_architecture.py keeps it so).

What every builder keeps to:
- one colour-blind-safe palette (Okabe-Ito): partner A blue, partner B orange, the
  couple bluish green, alerts vermilion; stage bands are light neutral tints;
- a missed session is a gap (NaN in y, `connectgaps=False`), never an interpolated value:
  no point is drawn there, and a thin dotted line joins the rated points on either side
  (so a partner who misses every other session reads as a line, not scattered dots);
- every threshold drawn names its method and parameters (the `Threshold.label` /
  `reliable_change_label` strings of the data contract): on the timeline in full under
  "Thresholds" in the legend with a short label on the shape, elsewhere on the shape;
- text a user typed (names, notes, clinic barrier names) is HTML-escaped, since plotly
  renders labels and hover text as pseudo-HTML;
- every figure has a table of the same numbers (`table_views`).

Speed: a couple has at most ~100 sessions, so the cost is plotly's per-figure overhead,
not the data. Each figure is therefore built in one `go.Figure(dict)` call (no
`make_subplots` / `update_*` passes, no stock template, which plotly deep-copies), and
`all_figures` prepares the shared frames once.

Two families in their own rooms: the couple timeline (the timeline page and the report:
one module a chart, `timeline`, `instruments`, `radar` with the barrier heatmap,
`adherence`, drawing from `couple_frames` and gathered in `couple`) and `review` (the
supervisor's caseload review), with the palette and helpers they share in `common`.
`from dashboard import charts` gives both.
"""

from dashboard.charts.adherence import *  # noqa: F403
from dashboard.charts.common import *  # noqa: F403
from dashboard.charts.couple import *  # noqa: F403
from dashboard.charts.couple_frames import *  # noqa: F403
from dashboard.charts.expected import *  # noqa: F403
from dashboard.charts.instruments import *  # noqa: F403
from dashboard.charts.radar import *  # noqa: F403
from dashboard.charts.review import *  # noqa: F403
from dashboard.charts.timeline import *  # noqa: F403
