"""The HTML report in a real browser (headless Chromium): summary, then plots, then the
evidence table, settings last; the plots load; verdict cells link to evidence rows.

Skips when no Chromium is installed (Debian: `apt-get install -y chromium`).
"""
import json
import re
import shutil
import subprocess

import pytest

from evals.claims.catalog import judge_all
from evals.analysis.synthetic import synthetic_curve
from evals.report import write_report

pytestmark = pytest.mark.fast

BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
LAMS = [0.0, 0.2, 0.4, 0.6, 0.7, 0.8, 1.0]
PROBE = """<script>
window.addEventListener("load", () => {
  const top = (sel) => { const e = document.querySelector(sel); return e ? e.getBoundingClientRect().top + scrollY : null; };
  const imgs = [...document.querySelectorAll("#plots img")];
  const links = [...document.querySelectorAll("#verdicts td a[href^='#v']")].map(a => a.getAttribute("href").slice(1));
  const out = {summary: top("#summary"), plots: top("#plots img"), evidence: top("#evidence table"),
               settings: top("#settings"), loaded: imgs.filter(i => i.naturalWidth > 0).length, images: imgs.length,
               links: links.length, dangling: links.filter(id => !document.getElementById(id)).length,
               scripts: document.querySelectorAll("script").length};
  const p = document.createElement("pre"); p.id = "probe"; p.textContent = JSON.stringify(out);
  document.body.appendChild(p);
});
</script></body>"""


@pytest.mark.skipif(BROWSER is None, reason="no Chromium: install it (Debian: apt-get install -y chromium) to render the report")
def test_plots_render_above_the_evidence_table(tmp_path):
    step = [0.3 if x < 0.65 else 0.8 for x in LAMS]
    tok = [1000 + 9000 * x for x in LAMS]
    curves = [synthetic_curve(m, LAMS, step, tok, pair="p<script>x</script>", benchmark="b", n_problems=12)
              for m in ("linear", "slerp")]
    out = write_report(curves, judge_all(curves, n_boot=100), tmp_path, "r1", {"limit": 5}, n_boot=100)
    page = (out / "claims.html").read_text()
    (out / "probe.html").write_text(page.replace("</body>", PROBE))
    dom = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000",
                          "--allow-file-access-from-files", "--virtual-time-budget=5000", "--dump-dom",
                          (out / "probe.html").as_uri()], capture_output=True, text=True, timeout=120).stdout
    m = re.search(r'<pre id="probe">(.*?)</pre>', dom)
    assert m, f"the probe did not run; chromium printed: {dom[:300]!r}"
    got = json.loads(m.group(1).replace("&quot;", '"'))
    assert got["summary"] < got["plots"] < got["evidence"] < got["settings"]
    assert got["images"] == 3 and got["loaded"] == 3  # accuracy, tokens, Pareto
    assert got["links"] > 0 and got["dangling"] == 0
    assert got["scripts"] == 1  # only the probe: the name's <script> stayed text
    assert "Smoke run: the smallest point has 12 problems" in page
