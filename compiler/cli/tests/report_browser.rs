//! The report page in a real browser: headless Chromium (Debian's `chromium`, which `.ci/run`
//! installs with the `fonts-noto-cjk` fonts) loads it from a file with no network, draws every
//! chart, renders the Chinese text with a real font, and shows a broken national ratio on its
//! first screen. The probe is a copy of the page with a script that measures it; the page
//! itself has no script and a policy that forbids every fetch.

mod common;

use common::{GUANGDONG, PROFILE, pol, text};
use std::path::{Path, PathBuf};
use std::process::Command;

const DRAFT_B: &str = "policies/provinces/guangdong/drafts/pension_adjustment_2024_draft_b.pol";

fn chromium() -> PathBuf {
    let path = std::env::var_os("POL_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "no browser at {}: install Debian's chromium and fonts-noto-cjk (.ci/run does), or set POL_CHROMIUM",
        path.display()
    );
    path
}

/// Chromium headless, as root, with nothing of its own on the network, and its profile in `dir`.
fn browser(dir: &Path) -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        "--window-size=1366,900",
    ]);
    c.arg(format!("--user-data-dir={}", dir.join("profile").display()));
    c
}

const PROBE: &str = r#"<script>
window.addEventListener('load', () => {
  const charts = [...document.querySelectorAll('svg.chart')].map(svg => {
    const marks = [...svg.querySelectorAll('rect.mark')];
    const drawn = marks.filter(m => { const b = m.getBoundingClientRect(); return b.width > 0 && b.height > 0; });
    return { label: svg.getAttribute('aria-label'), marks: marks.length, drawn: drawn.length };
  });
  // Two different characters in the page's own font: with no CJK font both would be the same
  // empty box (the .notdef glyph); drawn with a real font their pixels differ.
  const font = getComputedStyle(document.querySelector('h1')).fontFamily;
  const glyph = ch => {
    const c = document.createElement('canvas'); c.width = 64; c.height = 64;
    const g = c.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, 64, 64);
    g.fillStyle = '#000'; g.font = '48px ' + font; g.fillText(ch, 4, 52);
    const d = g.getImageData(0, 0, 64, 64).data; let ink = 0; const bits = [];
    for (let i = 0; i < d.length; i += 4) { const dark = d[i] < 128 ? 1 : 0; ink += dark; bits.push(dark); }
    return { ink, bits: bits.join('') };
  };
  const a = glyph('退'), b = glyph('养');
  const verdict = document.querySelector('.verdict');
  const box = verdict ? verdict.getBoundingClientRect() : null;
  const out = {
    charts,
    cjk: { ink_a: a.ink, ink_b: b.ink, differ: a.bits !== b.bits },
    verdict: verdict ? { text: verdict.textContent, broken: verdict.classList.contains('broken'), bottom: box.bottom, viewport: window.innerHeight } : null,
    resources: performance.getEntriesByType('resource').map(r => r.name),
  };
  const pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"#;

#[test]
fn the_report_renders_offline_in_chromium_with_its_charts_and_chinese_text() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("population.parquet").display().to_string();
    let o = pol(&["gen", GUANGDONG, "--record", "Retiree", "--rows", "3000", "--seed", "3", "--profile", PROFILE, "--output", &input]);
    assert!(o.status.success(), "{}", text(&o));
    let report = dir.path().join("report.html");
    let o = pol(&["diff", GUANGDONG, DRAFT_B, "--input", &input, "--report", &report.display().to_string()]);
    assert_eq!(o.status.code(), Some(1), "draft B breaks the ratio: {}", text(&o));
    let page = std::fs::read_to_string(&report).expect("page");

    // The page as written: a screenshot of its first screen, and the browser's network log.
    let shot = dir.path().join("first-screen.png");
    let netlog = dir.path().join("net.json");
    let out = browser(dir.path())
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("--log-net-log={}", netlog.display()))
        .arg(format!("file://{}", report.display()))
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium: {}", String::from_utf8_lossy(&out.stderr));
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "a screenshot of {} bytes", png.len());
    if let Some(keep) = std::env::var_os("POL_REPORT_SCREENSHOT") {
        std::fs::copy(&shot, keep).expect("keep the screenshot");
    }
    // Every network request a page started (file:// loads do not go through the network; the
    // browser's own services start theirs with no initiator, "not an origin"): none.
    let log: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&netlog).expect("net log")).expect("net log JSON");
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].as_u64().expect("event type");
    let from_pages: Vec<String> = log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start_job))
        .filter_map(|e| Some((e["params"]["url"].as_str()?, e["params"]["initiator"].as_str().unwrap_or("?"))))
        .filter(|(_, initiator)| *initiator != "not an origin")
        .map(|(url, initiator)| format!("{url} (initiator {initiator})"))
        .collect();
    assert!(from_pages.is_empty(), "the page made requests: {from_pages:?}");

    // The probe: the same page with a script that measures it (the policy that forbids scripts
    // taken out of the copy only).
    let csp = page.lines().find(|l| l.contains("Content-Security-Policy")).expect("the page has a policy");
    let probe = page.replace(csp, "").replace("</body>", &format!("{PROBE}\n</body>"));
    let probe_path = dir.path().join("probe.html");
    std::fs::write(&probe_path, probe).expect("probe");
    let out = browser(dir.path())
        .args(["--virtual-time-budget=10000", "--dump-dom"])
        .arg(format!("file://{}", probe_path.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom.find("<pre id=\"probe\">").unwrap_or_else(|| panic!("the probe did not run: {}", String::from_utf8_lossy(&out.stderr)));
    let json = &dom[start + "<pre id=\"probe\">".len()..];
    let json = &json[..json.find("</pre>").expect("probe end")];
    let json = json.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"");
    let probe: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("probe JSON {e}: {json}"));

    let charts = probe["charts"].as_array().expect("charts");
    // Deciles (two), one per grouping (seven), the buckets, and one per national principle (three).
    assert!(charts.len() >= 12, "{charts:?}");
    for chart in charts {
        assert!(chart["drawn"].as_u64().unwrap_or(0) > 0, "a chart with no drawn mark: {chart}");
    }
    assert_eq!(charts.len(), page.matches("<svg class=\"chart\"").count());
    let cjk = &probe["cjk"];
    assert!(cjk["ink_a"].as_u64().unwrap_or(0) > 50 && cjk["differ"] == true, "Chinese text does not render with a real font: {cjk}");
    let verdict = &probe["verdict"];
    assert_eq!(verdict["broken"], true, "{verdict}");
    assert!(verdict["text"].as_str().unwrap_or("").contains("草案不符合总体要求"), "{verdict}");
    assert!(
        verdict["bottom"].as_f64().unwrap_or(f64::MAX) <= verdict["viewport"].as_f64().unwrap_or(0.0),
        "the verdict is below the first screen: {verdict}"
    );
    assert_eq!(probe["resources"].as_array().map(Vec::len), Some(0), "the page loaded resources: {}", probe["resources"]);
}
