//! Charts: results to SVG and PNG bytes (cumulative response, trajectory, sessions received,
//! forest plot of change, waterfall). Pure: nothing here writes files.
//!
//! Text is set in DejaVu Sans, embedded in the binary, so a chart looks the same on a machine
//! with no fonts; the SVG names `sans-serif` as a fallback for viewers without DejaVu. Colours are
//! the Okabe–Ito palette, each condition keeping its colour across charts. Groups withheld by
//! small-cell suppression are not drawn. Layout is computed from the data alone, so the same
//! summary gives the same bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::{
    BitMapBackend, Circle, DrawingArea, DrawingAreaErrorKind, DrawingBackend, IntoDrawingArea,
    PathElement, Polygon, Rectangle, SVGBackend, Text,
};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{
    Color, FontDesc, FontFamily, FontStyle, FontTransform, RGBAColor, RGBColor, ShapeStyle,
    TextStyle,
};

use crate::analysis::response::{CurvePoint, ResponseRow};
use crate::analysis::trajectory::TrajectoryRow;
use crate::analysis::{Summary, ALL};
use crate::schema::Better;

/// One chart, as SVG and PNG bytes.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File stem, e.g. `response_pain_nrs`.
    pub name: String,
    pub title: String,
    /// One sentence that describes the chart, for the report.
    pub alt: String,
    pub svg: Vec<u8>,
    pub png: Vec<u8>,
}

/// Every chart the summary supports, in a fixed order: cumulative response per outcome,
/// trajectory per outcome, sessions received, forest plot of change per outcome, waterfall.
/// A chart with nothing to draw (every group withheld, no data) is left out.
pub fn all(summary: &Summary) -> Vec<Chart> {
    if !fonts() {
        return Vec::new();
    }
    let ctx = Ctx::new(summary);
    /// One chart to draw.
    enum Job {
        Response((String, String)),
        Trajectory((String, String)),
        Sessions,
        Forest((String, String)),
        Waterfall,
    }
    let mut jobs: Vec<Job> = Vec::new();
    jobs.extend(
        outcomes(
            summary
                .sessions_to_response
                .iter()
                .map(|r| (&r.outcome, &r.instrument)),
        )
        .into_iter()
        .map(Job::Response),
    );
    jobs.extend(
        outcomes(
            summary
                .trajectory
                .iter()
                .map(|r| (&r.outcome, &r.instrument)),
        )
        .into_iter()
        .map(Job::Trajectory),
    );
    jobs.push(Job::Sessions);
    jobs.extend(
        outcomes(summary.change.iter().map(|r| (&r.outcome, &r.instrument)))
            .into_iter()
            .map(Job::Forest),
    );
    jobs.push(Job::Waterfall);
    let draw = |job: &Job| match job {
        Job::Response(key) => response(&ctx, key),
        Job::Trajectory(key) => trajectory(&ctx, key),
        Job::Sessions => sessions(&ctx),
        Job::Forest(key) => forest(&ctx, key),
        Job::Waterfall => waterfall(&ctx),
    };
    // Every other chart is drawn on a second thread; the charts keep the jobs' order.
    let (even, odd): (Vec<Option<Chart>>, Vec<Option<Chart>>) = std::thread::scope(|scope| {
        let other = scope.spawn(|| jobs.iter().skip(1).step_by(2).map(draw).collect());
        let even = jobs.iter().step_by(2).map(draw).collect();
        (even, other.join().expect("chart thread"))
    });
    let mut odd = odd.into_iter();
    let mut charts: Vec<Chart> = Vec::new();
    for chart in even {
        charts.extend(chart);
        charts.extend(odd.next().flatten());
    }
    let mut seen = BTreeSet::new();
    for c in &mut charts {
        let stem = c.name.clone();
        let mut k = 1;
        while !seen.insert(c.name.clone()) {
            k += 1;
            c.name = format!("{stem}_{k}");
        }
    }
    charts
}

// ---------------------------------------------------------------------------------------------
// Fonts, colours, text

/// The font family every text element uses (registered under this name).
const FAMILY: &str = "DejaVu Sans, sans-serif";

/// Registers DejaVu Sans with plotters once; false if the embedded font could not be read.
fn fonts() -> bool {
    static DONE: OnceLock<bool> = OnceLock::new();
    *DONE.get_or_init(|| {
        // "sans-serif" too, so that no plotters default can ask for a system font.
        [FAMILY, "sans-serif"].iter().all(|name| {
            plotters::style::register_font(name, FontStyle::Normal, dejavu::sans::regular()).is_ok()
                && plotters::style::register_font(name, FontStyle::Bold, dejavu::sans::bold())
                    .is_ok()
        })
    })
}

/// Okabe–Ito, the colour-blind-safe palette (Okabe & Ito 2008).
/// Yellow, the faintest on white, comes last, so that a summary of up to seven conditions
/// avoids it.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0xF0, 0xE4, 0x42),
];
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED: RGBColor = RGBColor(0x55, 0x55, 0x55);
const GRID: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
const RULE: RGBColor = RGBColor(0x99, 0x99, 0x99);

const WIDTH: u32 = 900;
const HEIGHT: u32 = 560;
/// Labels taken from the input are cut to this many characters.
const LABEL_CHARS: usize = 28;

/// Text sizes (plotters units; the SVG font-size is this / 1.24).
const TITLE: f64 = 22.0;
const AXIS_TITLE: f64 = 17.0;
const TICK: f64 = 15.0;
const SMALL: f64 = 15.0;

/// A label from the input, safe to draw: control and bidirectional-override characters
/// removed, cut to [`LABEL_CHARS`] with an ellipsis in the middle. Markup needs no handling
/// here: the SVG backend escapes `<`, `>`, `&`, `"` and `'` in every text (a test checks it).
fn label(s: &str) -> String {
    let clean: String = s
        .chars()
        .filter(|c| {
            !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}' | '\u{FFFE}' | '\u{FFFF}')
        })
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let n = clean.chars().count();
    if n > LABEL_CHARS {
        // Keep both ends: names often differ only at the end ("..._left", "..._right").
        let head = (LABEL_CHARS - 1) * 2 / 3;
        let tail = LABEL_CHARS - 1 - head;
        let mut cut: String = clean.chars().take(head).collect();
        cut.push('…');
        cut.extend(clean.chars().skip(n - tail));
        cut
    } else {
        clean
    }
}

/// A file-name part: lower-case ASCII letters and digits, other runs as one `_`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() {
        "x".into()
    } else {
        out
    }
}

/// Width in pixels of `text` at `size`.
fn text_width(text: &str, size: f64, bold: bool) -> i32 {
    let style = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    FontDesc::new(FontFamily::Name(FAMILY), size, style)
        .box_size(text)
        .map_or(
            (text.chars().count() as f64 * size * 0.55) as i32,
            |(w, _)| w as i32,
        )
}

/// A number for a tick or a label, with `decimals` places and a true minus sign.
fn num(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        return s.trim_start_matches('-').to_string();
    }
    s.replacen('-', "\u{2212}", 1)
}

// ---------------------------------------------------------------------------------------------
// The summary, read for charts

/// The outcomes in order of first appearance, as (outcome, instrument).
fn outcomes<'a>(rows: impl Iterator<Item = (&'a String, &'a String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (o, i) in rows {
        if !out.iter().any(|(a, b)| a == o && b == i) {
            out.push((o.clone(), i.clone()));
        }
    }
    out
}

struct Ctx<'a> {
    s: &'a Summary,
    /// The conditions drawn, sorted: a condition's colour is its place here. Every condition
    /// in the summary, or the [`super::MOST_CONDITIONS`] with the most courses when there are more.
    conditions: Vec<String>,
    /// How many conditions the summary holds (drawn or not).
    all_conditions: usize,
}

impl<'a> Ctx<'a> {
    fn new(s: &'a Summary) -> Ctx<'a> {
        let (conditions, all_conditions) = super::largest_conditions(s);
        Ctx {
            s,
            conditions,
            all_conditions,
        }
    }

    /// Whether a condition (or the overall group) is drawn.
    fn draws(&self, condition: &str) -> bool {
        condition == ALL || self.place(condition).is_some()
    }

    fn place(&self, condition: &str) -> Option<usize> {
        (self.conditions)
            .binary_search_by(|c| c.as_str().cmp(condition))
            .ok()
    }

    /// Says which conditions are drawn when not all are.
    fn left_out_note(&self, notes: &mut Vec<String>) {
        if self.all_conditions > self.conditions.len() {
            notes.push(format!(
                "The {} conditions with the most courses are drawn, of {}; the tables hold every condition.",
                self.conditions.len(),
                self.all_conditions
            ));
        }
    }

    fn colour(&self, condition: &str) -> RGBColor {
        match self.place(condition) {
            Some(i) => PALETTE[i % PALETTE.len()],
            None => PALETTE[6],
        }
    }

    /// Whether a condition's lines are dashed (and bars hollow): the second round of colours.
    fn dashed(&self, condition: &str) -> bool {
        self.place(condition)
            .is_some_and(|i| (i / PALETTE.len()) % 2 == 1)
    }

    /// The legend text of a group.
    fn group_label(&self, condition: &str) -> String {
        if condition == ALL {
            "All conditions".into()
        } else {
            label(condition)
        }
    }

    fn min_cell(&self) -> u64 {
        self.s.parameters.min_cell
    }

    /// "pain (NRS)" or "WOMAC".
    fn outcome_name(&self, (outcome, instrument): &(String, String)) -> String {
        if outcome == "pain" {
            format!("pain ({})", label(instrument))
        } else {
            label(instrument)
        }
    }

    fn better(&self, (outcome, instrument): &(String, String)) -> Option<Better> {
        if outcome == "pain" {
            return Some(Better::Lower);
        }
        self.s
            .parameters
            .instruments
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(instrument))
            .map(|i| i.better)
    }

    /// The responder definition of an outcome, for a note.
    fn responder(&self, (outcome, instrument): &(String, String)) -> Option<String> {
        if outcome == "pain" {
            return Some(self.s.parameters.pain_responder.clone());
        }
        self.s
            .parameters
            .function_responders
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(instrument))
            .map(|(_, t)| t.clone())
    }

    fn stem(&self, chart: &str, (outcome, instrument): &(String, String)) -> String {
        format!("{chart}_{}_{}", slug(outcome), slug(instrument))
    }

    fn withheld_note(&self) -> String {
        format!(
            "Groups with fewer than {} courses are withheld and not shown.",
            self.min_cell()
        )
    }
}

/// Rows shown for a chart: the conditions that are not withheld, or the overall group
/// when no condition can be shown. Returns the rows and whether any group was withheld.
fn shown<'r, T>(
    ctx: &Ctx,
    rows: impl Iterator<Item = &'r T> + Clone,
    condition: impl Fn(&T) -> &str,
    drawable: impl Fn(&T) -> bool,
) -> (Vec<&'r T>, bool)
where
    T: 'r,
{
    let conditions: Vec<&T> = (rows.clone())
        .filter(|r| condition(r) != ALL && ctx.draws(condition(r)))
        .collect();
    let withheld = conditions.iter().any(|r| !drawable(r));
    let drawn: Vec<&T> = conditions.into_iter().filter(|r| drawable(r)).collect();
    if !drawn.is_empty() {
        return (drawn, withheld);
    }
    let overall: Vec<&T> = rows
        .filter(|r| condition(r) == ALL && drawable(r))
        .collect();
    (overall, withheld)
}

// ---------------------------------------------------------------------------------------------
// Drawing

type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart that can be drawn on any plotters backend.
trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, pen: &Pen<DB>) -> Drawn<DB>;
}

/// Draws `fig` as SVG and PNG; `None` if drawing failed.
fn render<F: Figure>(fig: &F, name: String, title: String, alt: String) -> Option<Chart> {
    let (w, h) = fig.size();
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        area.fill(&RGBColor(255, 255, 255)).ok()?;
        fig.draw(&Pen { area: &area }).ok()?;
        area.present().ok()?;
    }
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let area = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        fig.draw(&Pen { area: &area }).ok()?;
        area.present().ok()?;
    }
    Some(Chart {
        name,
        title,
        alt,
        svg: svg.into_bytes(),
        png: png(&rgb, w, h),
    })
}

/// An 8-bit RGB PNG of `rgb` (rows top to bottom), each row with the "Up" filter.
fn png(rgb: &[u8], w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let stride = w as usize * 3;
    let mut raw = Vec::with_capacity((stride + 1) * h as usize);
    let mut prev: &[u8] = &[];
    for row in rgb.chunks(stride.max(1)) {
        raw.push(2);
        if prev.is_empty() {
            raw.extend_from_slice(row);
        } else {
            raw.extend(row.iter().zip(prev).map(|(a, b)| a.wrapping_sub(*b)));
        }
        prev = row;
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let data = match z.write_all(&raw) {
        Ok(()) => z.finish().unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &data);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[derive(Clone, Copy)]
struct Font {
    size: f64,
    bold: bool,
    colour: RGBColor,
    vertical: bool,
}

impl Font {
    fn new(size: f64) -> Font {
        Font {
            size,
            bold: false,
            colour: INK,
            vertical: false,
        }
    }
    fn bold(self) -> Font {
        Font { bold: true, ..self }
    }
    fn colour(self, colour: RGBColor) -> Font {
        Font { colour, ..self }
    }
    fn vertical(self) -> Font {
        Font {
            vertical: true,
            ..self
        }
    }
}

/// Pixel-space drawing on a whole canvas.
struct Pen<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
}

/// Keeps pixel coordinates in a sane range whatever the data.
fn px(v: f64) -> i32 {
    if v.is_finite() {
        v.round().clamp(-20_000.0, 20_000.0) as i32
    } else {
        0
    }
}

fn stroke(colour: RGBAColor, width: u32) -> ShapeStyle {
    ShapeStyle {
        color: colour,
        filled: false,
        stroke_width: width,
    }
}

fn fill(colour: RGBAColor) -> ShapeStyle {
    ShapeStyle {
        color: colour,
        filled: true,
        stroke_width: 0,
    }
}

impl<DB: DrawingBackend> Pen<'_, DB> {
    fn text(&self, s: &str, at: (i32, i32), f: Font, h: HPos, v: VPos) -> Drawn<DB> {
        let style = if f.bold {
            FontStyle::Bold
        } else {
            FontStyle::Normal
        };
        let mut font = FontDesc::new(FontFamily::Name(FAMILY), f.size, style);
        if f.vertical {
            font = font.transform(FontTransform::Rotate270);
        }
        let style = TextStyle {
            font,
            color: f.colour.to_backend_color(),
            pos: Pos::new(h, v),
        };
        self.area.draw(&Text::new(s.to_string(), at, style))
    }

    fn line(&self, points: Vec<(i32, i32)>, colour: RGBAColor, width: u32) -> Drawn<DB> {
        let points = simplify(points);
        if points.len() < 2 {
            return Ok(());
        }
        self.area
            .draw(&PathElement::new(points, stroke(colour, width)))
    }

    fn dashed(&self, points: Vec<(i32, i32)>, colour: RGBAColor, width: u32) -> Drawn<DB> {
        let points = simplify(points);
        if points.len() < 2 {
            return Ok(());
        }
        let (dash, gap) = if width >= 3 { (9, 5) } else { (6, 4) };
        self.area.draw(&DashedPathElement::new(
            points,
            dash,
            gap,
            stroke(colour, width),
        ))
    }

    fn outline(&self, a: (i32, i32), b: (i32, i32), colour: RGBAColor) -> Drawn<DB> {
        let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
        let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
        self.rect((x0, y0), (x1, y1), colour.mix(0.25))?;
        self.line(
            vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)],
            colour,
            2,
        )
    }

    fn rect(&self, a: (i32, i32), b: (i32, i32), colour: RGBAColor) -> Drawn<DB> {
        let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
        let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
        self.area
            .draw(&Rectangle::new([(x0, y0), (x1, y1)], fill(colour)))
    }

    fn polygon(&self, points: Vec<(i32, i32)>, colour: RGBAColor) -> Drawn<DB> {
        if points.len() < 3 {
            return Ok(());
        }
        self.area.draw(&Polygon::new(points, fill(colour)))
    }

    fn dot(&self, at: (i32, i32), r: i32, colour: RGBAColor) -> Drawn<DB> {
        self.area.draw(&Circle::new(at, r, fill(colour)))?;
        self.area.draw(&Circle::new(
            at,
            r,
            stroke(RGBColor(255, 255, 255).to_rgba(), 1),
        ))
    }
}

/// Drops repeated points and the middle of three points on one horizontal or vertical run,
/// which thick-line joins in plotters would otherwise draw as small bumps.
fn simplify(points: Vec<(i32, i32)>) -> Vec<(i32, i32)> {
    let mut out: Vec<(i32, i32)> = Vec::with_capacity(points.len());
    for p in points {
        if out.last() == Some(&p) {
            continue;
        }
        if let [.., a, b] = out[..] {
            let vertical = a.0 == b.0 && b.0 == p.0 && (a.1 <= b.1) == (b.1 <= p.1);
            let horizontal = a.1 == b.1 && b.1 == p.1 && (a.0 <= b.0) == (b.0 <= p.0);
            if vertical || horizontal {
                out.pop();
            }
        }
        out.push(p);
    }
    out
}

/// A linear map from data to pixels.
#[derive(Clone, Copy)]
struct Scale {
    d0: f64,
    d1: f64,
    p0: f64,
    p1: f64,
}

impl Scale {
    fn new(d0: f64, d1: f64, p0: i32, p1: i32) -> Scale {
        let (d0, d1) = if d1.is_finite() && d0.is_finite() && d1 > d0 {
            (d0, d1)
        } else {
            (0.0, 1.0)
        };
        Scale {
            d0,
            d1,
            p0: f64::from(p0),
            p1: f64::from(p1),
        }
    }
    fn at(&self, v: f64) -> i32 {
        px(self.p0 + (v - self.d0) / (self.d1 - self.d0) * (self.p1 - self.p0))
    }
}

/// A "nice" tick step (1, 2 or 5 × 10^k) for about `target` intervals over `span`.
fn nice_step(span: f64, target: f64) -> f64 {
    let raw = span / target.max(1.0);
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Decimal places that show a step without noise.
fn decimals(step: f64) -> usize {
    if step >= 1.0 || !step.is_finite() || step <= 0.0 {
        0
    } else {
        ((-step.log10()).ceil() as usize).min(6)
    }
}

/// A numeric axis range widened to nice ticks: (lo, hi, ticks).
fn nice_axis(lo: f64, hi: f64, target: f64) -> (f64, f64, Vec<(f64, String)>) {
    let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() {
        (lo.min(hi), lo.max(hi))
    } else {
        (0.0, 1.0)
    };
    if hi - lo < 1e-9 {
        let pad = if lo.abs() > 1e-9 { lo.abs() * 0.1 } else { 1.0 };
        lo -= pad;
        hi += pad;
    }
    let step = nice_step(hi - lo, target);
    let lo = (lo / step).floor() * step;
    let hi = (hi / step).ceil() * step;
    let d = decimals(step);
    let mut ticks = Vec::new();
    let mut k = 0.0;
    while lo + k * step <= hi + step * 1e-6 && ticks.len() < 60 {
        let v = lo + k * step;
        ticks.push((v, num(v, d)));
        k += 1.0;
    }
    (lo, hi, ticks)
}

/// Integer ticks 0..=max, thinned to at most `most` labels: (step, ticks).
fn int_ticks(min: u32, max: u32, most: u32) -> (u32, Vec<(f64, String)>) {
    let span = max.saturating_sub(min);
    let mut step = 1u32;
    for s in [1u32, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000] {
        step = s;
        if span / s < most.max(1) {
            break;
        }
    }
    let first = min.div_ceil(step) * step;
    let ticks = (first..=max)
        .step_by(step as usize)
        .map(|k| (f64::from(k), k.to_string()))
        .collect();
    (step, ticks)
}

/// The plotting rectangle and its scales.
struct Frame {
    left: i32,
    top: i32,
    right: i32,
    bottom: i32,
    x: Scale,
    y: Scale,
}

/// Space below the plotting rectangle for tick labels and the axis title.
const X_AXIS_H: i32 = 62;

/// Left margin that fits y tick labels and the rotated y-axis title.
fn y_axis_w(yticks: &[(f64, String)]) -> i32 {
    let widest = yticks
        .iter()
        .map(|(_, t)| text_width(t, TICK, false))
        .max()
        .unwrap_or(0);
    16 + 22 + 10 + widest + 8
}

impl Frame {
    /// Grid, axis lines, ticks and titles.
    fn axes<DB: DrawingBackend>(
        &self,
        pen: &Pen<DB>,
        xticks: &[(f64, String)],
        yticks: &[(f64, String)],
        xtitle: &str,
        ytitle: &str,
    ) -> Drawn<DB> {
        let widest = yticks
            .iter()
            .map(|(_, t)| text_width(t, TICK, false))
            .max()
            .unwrap_or(0);
        for (v, t) in yticks {
            let y = self.y.at(*v);
            pen.line(vec![(self.left, y), (self.right, y)], GRID.to_rgba(), 1)?;
            pen.line(vec![(self.left - 5, y), (self.left, y)], INK.to_rgba(), 1)?;
            pen.text(
                t,
                (self.left - 8, y),
                Font::new(TICK),
                HPos::Right,
                VPos::Center,
            )?;
        }
        for (v, t) in xticks {
            let x = self.x.at(*v);
            pen.line(
                vec![(x, self.bottom), (x, self.bottom + 5)],
                INK.to_rgba(),
                1,
            )?;
            pen.text(
                t,
                (x, self.bottom + 9),
                Font::new(TICK),
                HPos::Center,
                VPos::Top,
            )?;
        }
        pen.line(
            vec![(self.left, self.top), (self.left, self.bottom)],
            INK.to_rgba(),
            1,
        )?;
        pen.line(
            vec![(self.left, self.bottom), (self.right, self.bottom)],
            INK.to_rgba(),
            1,
        )?;
        pen.text(
            xtitle,
            ((self.left + self.right) / 2, self.bottom + 36),
            Font::new(AXIS_TITLE),
            HPos::Center,
            VPos::Top,
        )?;
        pen.text(
            ytitle,
            (
                self.left - 8 - widest - 12 - 9,
                (self.top + self.bottom) / 2,
            ),
            Font::new(AXIS_TITLE).vertical(),
            HPos::Center,
            VPos::Center,
        )
    }
}

/// The title and notes at the top of a chart.
struct Header {
    title: String,
    notes: Vec<String>,
}

impl Header {
    fn height(&self) -> i32 {
        16 + 28 + 20 * self.notes.len() as i32 + 8
    }
    fn draw<DB: DrawingBackend>(&self, pen: &Pen<DB>) -> Drawn<DB> {
        pen.text(
            &self.title,
            (16, 16),
            Font::new(TITLE).bold(),
            HPos::Left,
            VPos::Top,
        )?;
        for (i, n) in self.notes.iter().enumerate() {
            pen.text(
                n,
                (16, 16 + 30 + 20 * i as i32),
                Font::new(SMALL).colour(MUTED),
                HPos::Left,
                VPos::Top,
            )?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Swatch {
    /// A group's line, dashed for the second round of colours.
    Line(bool),
    /// A group's bar, hollow for the second round of colours.
    Box(bool),
    /// A reference line.
    Rule,
    /// The median marker of the cumulative response chart.
    Median,
}

/// A legend laid out in a grid of equal columns.
struct Legend {
    entries: Vec<(String, RGBColor, Swatch)>,
    col_w: i32,
    cols: usize,
}

const LEGEND_ROW: i32 = 22;

impl Legend {
    fn new(entries: Vec<(String, RGBColor, Swatch)>, avail: i32) -> Legend {
        let widest = entries
            .iter()
            .map(|(t, _, _)| text_width(t, SMALL, false))
            .max()
            .unwrap_or(0);
        let col_w = 28 + 8 + widest + 24;
        let cols = ((avail / col_w.max(1)).max(1) as usize).min(entries.len().max(1));
        Legend {
            entries,
            col_w,
            cols,
        }
    }
    fn height(&self) -> i32 {
        if self.entries.is_empty() {
            0
        } else {
            self.entries.len().div_ceil(self.cols) as i32 * LEGEND_ROW + 6
        }
    }
    fn draw<DB: DrawingBackend>(&self, pen: &Pen<DB>, x0: i32, y0: i32) -> Drawn<DB> {
        for (i, (t, c, sw)) in self.entries.iter().enumerate() {
            let x = x0 + (i % self.cols) as i32 * self.col_w;
            let y = y0 + (i / self.cols) as i32 * LEGEND_ROW + LEGEND_ROW / 2;
            swatch(pen, *sw, *c, x, y)?;
            pen.text(t, (x + 36, y), Font::new(SMALL), HPos::Left, VPos::Center)?;
        }
        Ok(())
    }
}

fn swatch<DB: DrawingBackend>(pen: &Pen<DB>, sw: Swatch, c: RGBColor, x: i32, y: i32) -> Drawn<DB> {
    match sw {
        Swatch::Line(false) => pen.line(vec![(x, y), (x + 28, y)], c.to_rgba(), 3),
        Swatch::Line(true) => pen.dashed(vec![(x, y), (x + 28, y)], c.to_rgba(), 3),
        Swatch::Box(false) => pen.rect((x + 6, y - 7), (x + 22, y + 7), c.to_rgba()),
        Swatch::Box(true) => pen.outline((x + 6, y - 7), (x + 22, y + 7), c.to_rgba()),
        Swatch::Rule => pen.dashed(vec![(x, y), (x + 28, y)], c.to_rgba(), 2),
        Swatch::Median => {
            pen.dashed(vec![(x, y), (x + 28, y)], c.to_rgba(), 1)?;
            pen.dot((x + 14, y), 5, c.to_rgba())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Cumulative response against number of injections (Kaplan–Meier)

struct KmGroup<'a> {
    label: String,
    colour: RGBColor,
    dashed: bool,
    n: Option<u64>,
    curve: &'a [CurvePoint],
    /// Small-cell suppression withholds the curve from this number of injections on.
    withheld_from: Option<u32>,
    median: Option<f64>,
    median_ci: (Option<f64>, Option<f64>),
}

impl KmGroup<'_> {
    /// Courses at risk just before `k` injections: n at 0, else the at-risk count of the next
    /// curve point at or after k (nobody leaves between points); 0 after the last point.
    fn at_risk(&self, k: u32) -> Option<u64> {
        if k == 0 {
            return self.n;
        }
        match self.curve.iter().find(|p| p.injections >= k) {
            Some(p) => p.at_risk,
            None => Some(0),
        }
    }

    /// "3 (2–4)"; NR where not reached.
    fn median_text(&self) -> String {
        let f = |x: Option<f64>| x.filter(|v| v.is_finite()).map_or("NR".to_string(), short);
        match self.median.filter(|m| m.is_finite()) {
            None => "NR".into(),
            Some(m) => format!(
                "{} ({}\u{2013}{})",
                short(m),
                f(self.median_ci.0),
                f(self.median_ci.1)
            ),
        }
    }
}

/// A number of injections: whole, or with one decimal (a median can fall half-way).
fn short(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        num(v, 0)
    } else {
        num(v, 1)
    }
}

struct ResponseFig<'a> {
    header: Header,
    groups: Vec<KmGroup<'a>>,
    xmax: u32,
    xtitle: String,
    ytitle: String,
}

const TABLE_ROW: i32 = 22;
const MEDIAN_HEAD: &str = "Median (95% CI)";

impl ResponseFig<'_> {
    fn legend(&self) -> Legend {
        let mut entries: Vec<_> = self
            .groups
            .iter()
            .map(|g| (g.label.clone(), g.colour, Swatch::Line(g.dashed)))
            .collect();
        if self.groups.iter().any(|g| g.median.is_some()) {
            entries.push((
                "Median injections to response".into(),
                MUTED,
                Swatch::Median,
            ));
        }
        Legend::new(entries, WIDTH as i32 - 32)
    }
    fn left(&self) -> i32 {
        let labels = self
            .groups
            .iter()
            .map(|g| text_width(&g.label, SMALL, false))
            .max()
            .unwrap_or(0);
        let (_, _, yt) = nice_axis(0.0, 100.0, 5.0);
        y_axis_w(&yt).max(16 + 36 + labels + 36)
    }
    /// Width of the median column right of the plot.
    fn median_w(&self) -> i32 {
        self.groups
            .iter()
            .map(|g| text_width(&g.median_text(), SMALL, false))
            .chain([text_width(MEDIAN_HEAD, SMALL, true)])
            .max()
            .unwrap_or(0)
            + 16
    }
    fn table_h(&self) -> i32 {
        12 + TABLE_ROW * (self.groups.len() as i32 + 1) + 16
    }
    fn fixed_h(&self) -> i32 {
        self.header.height() + self.legend().height() + 10 + X_AXIS_H + self.table_h()
    }
}

impl Figure for ResponseFig<'_> {
    fn size(&self) -> (u32, u32) {
        let h = (self.fixed_h() + 260).max(HEIGHT as i32);
        (WIDTH, h as u32)
    }

    fn draw<DB: DrawingBackend>(&self, pen: &Pen<DB>) -> Drawn<DB> {
        let (w, h) = self.size();
        let (w, h) = (w as i32, h as i32);
        self.header.draw(pen)?;
        let legend = self.legend();
        let ly = self.header.height();
        legend.draw(pen, 16, ly)?;
        let left = self.left();
        let top = ly + legend.height() + 10;
        let bottom = h - self.table_h() - X_AXIS_H;
        let median_x = w - 16 - self.median_w();
        let right = (median_x - 24).max(left + 100);
        let xmax = f64::from(self.xmax);
        let frame = Frame {
            left,
            top,
            right,
            bottom,
            x: Scale::new(0.0, xmax + 0.25, left, right),
            y: Scale::new(0.0, 100.0, bottom, top + 6),
        };
        let (_, _, yticks) = nice_axis(0.0, 100.0, 5.0);
        let most = ((right - left) / 40).max(1) as u32;
        let (step, xticks) = int_ticks(0, self.xmax, most);
        frame.axes(pen, &xticks, &yticks, &self.xtitle, &self.ytitle)?;

        // Bands first (fainter the more groups overlap), then the median guides, then the curves.
        let alpha = (0.5 / self.groups.len() as f64).clamp(0.07, 0.18);
        for g in &self.groups {
            for run in band_runs(g.curve) {
                pen.polygon(
                    run.iter()
                        .map(|&(x, y)| (frame.x.at(x), frame.y.at(y)))
                        .collect(),
                    g.colour.mix(alpha),
                )?;
            }
        }
        let medians: Vec<(f64, RGBColor)> = self
            .groups
            .iter()
            .filter_map(|g| g.median.filter(|m| m.is_finite()).map(|m| (m, g.colour)))
            .collect();
        if let Some(far) = medians.iter().map(|m| m.0).reduce(f64::max) {
            let y = frame.y.at(50.0);
            pen.dashed(
                vec![(frame.x.at(0.0), y), (frame.x.at(far), y)],
                MUTED.to_rgba(),
                1,
            )?;
            for (m, c) in &medians {
                pen.dashed(
                    vec![(frame.x.at(*m), y), (frame.x.at(*m), bottom)],
                    c.to_rgba(),
                    2,
                )?;
            }
        }
        for g in &self.groups {
            let pts = steps(g.curve)
                .into_iter()
                .map(|(x, y)| (frame.x.at(x), frame.y.at(y)))
                .collect();
            if g.dashed {
                pen.dashed(pts, g.colour.to_rgba(), 3)?;
            } else {
                pen.line(pts, g.colour.to_rgba(), 3)?;
            }
        }
        for (m, c) in &medians {
            pen.dot((frame.x.at(*m), frame.y.at(50.0)), 5, c.to_rgba())?;
        }

        // Numbers at risk, aligned with the x ticks, and each group's median.
        let t0 = bottom + X_AXIS_H + 12;
        let head = t0 + TABLE_ROW / 2;
        let bold = Font::new(SMALL).bold();
        let title = if self.groups.iter().any(|g| g.withheld_from.is_some()) {
            "Number at risk (\u{2013}: curve withheld, small numbers)"
        } else {
            "Number at risk"
        };
        pen.text(title, (16, head), bold, HPos::Left, VPos::Center)?;
        pen.text(
            MEDIAN_HEAD,
            (median_x, head),
            bold,
            HPos::Left,
            VPos::Center,
        )?;
        pen.line(
            vec![(16, t0 + TABLE_ROW), (w - 16, t0 + TABLE_ROW)],
            GRID.to_rgba(),
            1,
        )?;
        for (i, g) in self.groups.iter().enumerate() {
            let y = t0 + TABLE_ROW * (i as i32 + 1) + TABLE_ROW / 2 + 2;
            swatch(pen, Swatch::Line(g.dashed), g.colour, 16, y)?;
            let plain = Font::new(SMALL);
            pen.text(&g.label, (16 + 36, y), plain, HPos::Left, VPos::Center)?;
            for k in (0..=self.xmax).step_by(step as usize) {
                let text = if g.withheld_from.is_some_and(|w| k >= w) {
                    "\u{2013}".to_string()
                } else {
                    short_count(g.at_risk(k))
                };
                let x = frame.x.at(f64::from(k));
                pen.text(&text, (x, y), plain, HPos::Center, VPos::Center)?;
            }
            let m = g.median_text();
            pen.text(&m, (median_x, y), plain, HPos::Left, VPos::Center)?;
        }
        Ok(())
    }
}

/// The step line of 1 − S in percent: from (0, 0), flat to each time at which it changes, up
/// to its new value, and flat to the last time.
fn steps(curve: &[CurvePoint]) -> Vec<(f64, f64)> {
    let mut pts = vec![(0.0, 0.0)];
    let mut prev = 0.0;
    let mut last = 0.0;
    for p in curve {
        let Some(c) = p.cum_response.filter(|c| c.is_finite()) else {
            continue;
        };
        let x = f64::from(p.injections);
        let c = c * 100.0;
        if c != prev {
            pts.push((x, prev));
            pts.push((x, c));
            prev = c;
        }
        last = x;
    }
    if pts.last().is_some_and(|p| p.0 < last) {
        pts.push((last, prev));
    }
    pts
}

/// The CI band as polygons, one per run of points with both limits, each limit held from its
/// point to the next (percent).
fn band_runs(curve: &[CurvePoint]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut upper: Vec<(f64, f64)> = Vec::new();
    let mut lower: Vec<(f64, f64)> = Vec::new();
    let mut flush = |upper: &mut Vec<(f64, f64)>, lower: &mut Vec<(f64, f64)>| {
        if upper.len() >= 2 {
            let mut poly = std::mem::take(upper);
            poly.extend(lower.drain(..).rev());
            runs.push(poly);
        }
        upper.clear();
        lower.clear();
    };
    for (i, p) in curve.iter().enumerate() {
        let next = curve.get(i + 1).map(|q| f64::from(q.injections));
        let ci = p
            .ci_low
            .zip(p.ci_high)
            .filter(|(l, h)| l.is_finite() && h.is_finite());
        match (ci, next) {
            (Some((lo, hi)), Some(x1)) => {
                let x0 = f64::from(p.injections);
                upper.push((x0, hi * 100.0));
                upper.push((x1, hi * 100.0));
                lower.push((x0, lo * 100.0));
                lower.push((x1, lo * 100.0));
            }
            _ => flush(&mut upper, &mut lower),
        }
    }
    flush(&mut upper, &mut lower);
    runs
}

fn response(ctx: &Ctx, key: &(String, String)) -> Option<Chart> {
    let rows = ctx
        .s
        .sessions_to_response
        .iter()
        .filter(|r| (&r.outcome, &r.instrument) == (&key.0, &key.1));
    // A group with its n shown but every point of its curve and its median withheld has
    // nothing to draw: it is left out of the chart (legend and at-risk table) too, with a note
    // of its own.
    let has_line = |r: &ResponseRow| {
        r.median.is_some() || (r.curve.iter()).any(|p| !p.suppressed && p.cum_response.is_some())
    };
    let condition = |r: &&ResponseRow| r.condition != ALL && ctx.draws(&r.condition);
    let small = (rows.clone()).any(|r| condition(&r) && r.suppressed && r.n.is_none());
    let no_line = (rows.clone()).any(|r| condition(&r) && r.n.is_some() && !has_line(r));
    let (drawn, _) = shown(
        ctx,
        rows,
        |r: &ResponseRow| r.condition.as_str(),
        |r| !(r.suppressed && r.n.is_none()) && has_line(r),
    );
    if drawn.is_empty() {
        return None;
    }
    let groups: Vec<KmGroup> = drawn
        .iter()
        .map(|r| KmGroup {
            label: ctx.group_label(&r.condition),
            colour: ctx.colour(&r.condition),
            dashed: ctx.dashed(&r.condition),
            n: r.n,
            curve: &r.curve,
            withheld_from: r.withheld_from,
            median: r.median,
            median_ci: (r.median_ci_low, r.median_ci_high),
        })
        .collect();
    let xmax = groups
        .iter()
        .filter_map(|g| g.curve.last().map(|p| p.injections))
        .chain(
            groups
                .iter()
                .filter_map(|g| g.median.filter(|m| m.is_finite()).map(|m| m.ceil() as u32)),
        )
        .max()
        .unwrap_or(0)
        .clamp(1, 1000);
    let outcome = ctx.outcome_name(key);
    let nr = if groups.iter().any(|g| g.median_text().contains("NR")) {
        " NR: not reached."
    } else {
        ""
    };
    let mut notes = vec![format!(
        "Response: improvement of at least {}. Shaded: 95% CI.{nr}",
        ctx.responder(key)
            .unwrap_or_else(|| "the responder threshold".into())
    )];
    if small {
        notes.push(ctx.withheld_note());
    }
    if no_line {
        notes.push(format!(
            "Conditions whose whole curve and median are withheld (they would give away a count below {}) are not drawn.",
            ctx.min_cell()
        ));
    }
    ctx.left_out_note(&mut notes);
    let title = format!("Cumulative response by number of injections: {outcome}");
    let n = groups.len();
    let fig = ResponseFig {
        header: Header {
            title: title.clone(),
            notes,
        },
        groups,
        xmax,
        xtitle: "Number of injections".into(),
        ytitle: "Cumulative response (%)".into(),
    };
    let alt = format!(
        "Step chart of the cumulative percentage of courses responding in {outcome} against the \
         number of injections, one line with its 95% confidence band for {}, \
         with the number of courses at risk and the median number of injections to response \
         under the axis.",
        groups_word(n, drawn.first().is_some_and(|r| r.condition == ALL))
    );
    render(&fig, ctx.stem("response", key), title, alt)
}

/// "each of 3 conditions", "the one condition", "the one group (all conditions together)".
fn groups_word(n: usize, overall: bool) -> String {
    match (overall, n) {
        (true, 1) => "the one group (all conditions together)".into(),
        (true, _) => format!("each of {n} groups (all conditions together)"),
        (false, 1) => "the one condition".into(),
        _ => format!("each of {n} conditions"),
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Trajectory: mean score with 95% CI by number of injections

/// A mean and its CI.
type Estimate = (f64, Option<(f64, f64)>);

struct TrajGroup {
    label: String,
    colour: RGBColor,
    dashed: bool,
    /// (injections, mean, CI), `None` where the point is withheld (breaks the line).
    points: Vec<(u32, Option<Estimate>)>,
}

struct TrajectoryFig {
    header: Header,
    groups: Vec<TrajGroup>,
    kmax: u32,
    ylo: f64,
    yhi: f64,
    yticks: Vec<(f64, String)>,
    ytitle: String,
}

impl TrajectoryFig {
    fn legend(&self) -> Legend {
        Legend::new(
            self.groups
                .iter()
                .map(|g| (g.label.clone(), g.colour, Swatch::Line(g.dashed)))
                .collect(),
            WIDTH as i32 - 32,
        )
    }
}

impl Figure for TrajectoryFig {
    fn size(&self) -> (u32, u32) {
        let fixed = self.header.height() + self.legend().height() + 10 + X_AXIS_H;
        (WIDTH, (fixed + 300).max(HEIGHT as i32) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, pen: &Pen<DB>) -> Drawn<DB> {
        let (w, h) = self.size();
        let (w, h) = (w as i32, h as i32);
        self.header.draw(pen)?;
        let legend = self.legend();
        let ly = self.header.height();
        legend.draw(pen, 16, ly)?;
        let left = y_axis_w(&self.yticks);
        let top = ly + legend.height() + 10;
        let bottom = h - X_AXIS_H;
        let right = w - 30;
        let frame = Frame {
            left,
            top,
            right,
            bottom,
            x: Scale::new(-0.5, f64::from(self.kmax) + 0.5, left, right),
            y: Scale::new(self.ylo, self.yhi, bottom, top),
        };
        let most = ((right - left) / 36).max(1) as u32;
        let (_, xticks) = int_ticks(0, self.kmax, most);
        frame.axes(
            pen,
            &xticks,
            &self.yticks,
            "Number of injections received",
            &self.ytitle,
        )?;
        let g = self.groups.len() as f64;
        let dodge = (0.5 / g).min(0.12);
        for (j, grp) in self.groups.iter().enumerate() {
            let off = (j as f64 - (g - 1.0) / 2.0) * dodge;
            let c = grp.colour.to_rgba();
            let join = |run: Vec<(i32, i32)>| {
                if grp.dashed {
                    pen.dashed(run, c, 2)
                } else {
                    pen.line(run, c, 2)
                }
            };
            let mut run: Vec<(i32, i32)> = Vec::new();
            for (k, p) in &grp.points {
                match p {
                    Some((m, _)) => {
                        run.push((frame.x.at(f64::from(*k) + off), frame.y.at(*m)));
                    }
                    None => join(std::mem::take(&mut run))?,
                }
            }
            join(run)?;
            for (k, p) in &grp.points {
                if let Some((m, ci)) = p {
                    let x = frame.x.at(f64::from(*k) + off);
                    if let Some((lo, hi)) = ci {
                        let (y0, y1) = (frame.y.at(*lo), frame.y.at(*hi));
                        pen.line(vec![(x, y0), (x, y1)], c, 2)?;
                        pen.line(vec![(x - 4, y0), (x + 4, y0)], c, 2)?;
                        pen.line(vec![(x - 4, y1), (x + 4, y1)], c, 2)?;
                    }
                    pen.dot((x, frame.y.at(*m)), 5, c)?;
                }
            }
        }
        Ok(())
    }
}

fn trajectory(ctx: &Ctx, key: &(String, String)) -> Option<Chart> {
    let rows: Vec<_> = ctx
        .s
        .trajectory
        .iter()
        .filter(|r| (&r.outcome, &r.instrument) == (&key.0, &key.1))
        .collect();
    // Each condition's rows, conditions in the order they come.
    let mut names: Vec<&str> = Vec::new();
    let mut of: BTreeMap<&str, Vec<&TrajectoryRow>> = BTreeMap::new();
    for r in &rows {
        of.entry(&r.condition)
            .or_insert_with(|| {
                names.push(&r.condition);
                Vec::new()
            })
            .push(r);
    }
    // A group is drawable when at least one of its points is.
    let has_point = |c: &str| of[c].iter().any(|r| r.mean.is_some_and(f64::is_finite));
    let (drawn, withheld) = shown(ctx, names.iter(), |c: &&str| c, |c| has_point(c));
    let withheld = withheld || (rows.iter()).any(|r| r.suppressed && ctx.draws(&r.condition));
    if drawn.is_empty() {
        return None;
    }
    let mut groups = Vec::new();
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut kmax = 0;
    for c in &drawn {
        let mut points = Vec::new();
        for r in &of[**c] {
            let mean = r.mean.filter(|m| m.is_finite());
            let ci = r
                .ci_low
                .zip(r.ci_high)
                .filter(|(l, h)| l.is_finite() && h.is_finite());
            if let Some(m) = mean {
                lo = lo.min(m);
                hi = hi.max(m);
                if let Some((l, h)) = ci {
                    lo = lo.min(l);
                    hi = hi.max(h);
                }
                kmax = kmax.max(r.injections);
            }
            points.push((r.injections, mean.map(|m| (m, ci))));
        }
        groups.push(TrajGroup {
            label: ctx.group_label(c),
            colour: ctx.colour(c),
            dashed: ctx.dashed(c),
            points,
        });
    }
    let kmax = kmax.min(1000);
    for g in &mut groups {
        g.points.retain(|(k, _)| *k <= kmax);
    }
    let (ylo, yhi, yticks) = nice_axis(lo, hi, 6.0);
    let outcome = ctx.outcome_name(key);
    let better = match ctx.better(key) {
        Some(Better::Lower) => ", lower is better",
        Some(Better::Higher) => ", higher is better",
        None => "",
    };
    let ytitle = if key.0 == "pain" {
        format!("Pain {}{better}", label(&key.1))
    } else {
        format!("{} score{better}", label(&key.1))
    };
    let mut notes = vec![
        "Points: mean score; bars: 95% CI. Injections received before the visit; 0 = baseline."
            .to_string(),
    ];
    if withheld {
        notes.push(format!(
            "Points from fewer than {} courses are withheld and not shown.",
            ctx.min_cell()
        ));
    }
    ctx.left_out_note(&mut notes);
    let mut title = format!("{outcome} by number of injections received");
    if let Some(first) = title.get(..1) {
        title = first.to_uppercase() + &title[1..];
    }
    let n = groups.len();
    let overall = drawn.first().is_some_and(|c| **c == ALL);
    let fig = TrajectoryFig {
        header: Header {
            title: title.clone(),
            notes,
        },
        groups,
        kmax,
        ylo,
        yhi,
        yticks,
        ytitle,
    };
    let dir = better.trim_start_matches(", ");
    let alt = format!(
        "Line chart of the mean {outcome} score with 95% confidence intervals by number of \
         injections received, one line for {}{}.",
        groups_word(n, overall),
        if dir.is_empty() {
            String::new()
        } else {
            format!("; {dir}")
        }
    );
    render(&fig, ctx.stem("trajectory", key), title, alt)
}

// ---------------------------------------------------------------------------------------------
// 3. Sessions received

/// One condition's bars: share of courses (%) by number of sessions.
struct Bars {
    label: String,
    colour: RGBColor,
    hollow: bool,
    n: u64,
    bars: Vec<(u32, f64)>,
}

struct SessionsFig {
    header: Header,
    groups: Vec<Bars>,
    kmin: u32,
    kmax: u32,
    yhi: f64,
    yticks: Vec<(f64, String)>,
}

impl SessionsFig {
    fn legend(&self) -> Legend {
        Legend::new(
            self.groups
                .iter()
                .map(|g| {
                    (
                        format!("{} (n = {})", g.label, g.n),
                        g.colour,
                        Swatch::Box(g.hollow),
                    )
                })
                .collect(),
            WIDTH as i32 - 32,
        )
    }
}

impl Figure for SessionsFig {
    fn size(&self) -> (u32, u32) {
        let fixed = self.header.height() + self.legend().height() + 10 + X_AXIS_H;
        (WIDTH, (fixed + 300).max(HEIGHT as i32) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, pen: &Pen<DB>) -> Drawn<DB> {
        let (w, h) = self.size();
        let (w, h) = (w as i32, h as i32);
        self.header.draw(pen)?;
        let legend = self.legend();
        let ly = self.header.height();
        legend.draw(pen, 16, ly)?;
        let left = y_axis_w(&self.yticks);
        let top = ly + legend.height() + 10;
        let bottom = h - X_AXIS_H;
        let right = w - 30;
        let frame = Frame {
            left,
            top,
            right,
            bottom,
            x: Scale::new(
                f64::from(self.kmin) - 0.5,
                f64::from(self.kmax) + 0.5,
                left,
                right,
            ),
            y: Scale::new(0.0, self.yhi, bottom, top),
        };
        let most = ((right - left) / 36).max(1) as u32;
        let (_, xticks) = int_ticks(self.kmin, self.kmax, most);
        frame.axes(
            pen,
            &xticks,
            &self.yticks,
            "Number of injection sessions per course",
            "Share of courses (%)",
        )?;
        let g = self.groups.len() as f64;
        let bw = 0.8 / g;
        for (j, g) in self.groups.iter().enumerate() {
            for (k, share) in &g.bars {
                let x0 = f64::from(*k) - 0.4 + j as f64 * bw;
                let (a, b) = (frame.x.at(x0), frame.x.at(x0 + bw));
                // Keep a hairline gap between neighbouring bars.
                let b = if b - a >= 3 { b - 1 } else { b.max(a + 1) };
                let (p, q) = ((a, frame.y.at(0.0)), (b, frame.y.at(*share)));
                if g.hollow {
                    pen.outline(p, q, g.colour.to_rgba())?;
                } else {
                    pen.rect(p, q, g.colour.to_rgba())?;
                }
            }
        }
        Ok(())
    }
}

fn sessions(ctx: &Ctx) -> Option<Chart> {
    let (drawn, withheld) = shown(
        ctx,
        ctx.s.sessions_received.iter(),
        |r: &crate::analysis::sessions::SessionsRow| r.condition.as_str(),
        |r| !(r.suppressed && r.n.is_none()) && r.n.is_some_and(|n| n > 0),
    );
    let mut groups = Vec::new();
    let mut any_cell_withheld = false;
    for r in &drawn {
        let n = r.n.unwrap_or(0);
        let bars: Vec<(u32, f64)> = r
            .counts
            .0
            .iter()
            .filter_map(|(k, c)| {
                any_cell_withheld |= c.is_none();
                c.map(|c| (*k, c as f64 / n as f64 * 100.0))
            })
            .filter(|(k, s)| s.is_finite() && *k <= 1000)
            .collect();
        groups.push(Bars {
            label: ctx.group_label(&r.condition),
            colour: ctx.colour(&r.condition),
            hollow: ctx.dashed(&r.condition),
            n,
            bars,
        });
    }
    let ks = groups.iter().flat_map(|g| g.bars.iter().map(|b| b.0));
    let (kmin, kmax) = (ks.clone().min()?, ks.max()?);
    let top = groups
        .iter()
        .flat_map(|g| g.bars.iter().map(|b| b.1))
        .fold(0.0, f64::max);
    let (_, yhi, yticks) = nice_axis(0.0, top.max(1.0), 5.0);
    let mut notes = vec![
        "Bars: share of each condition's courses that received that many injection sessions."
            .to_string(),
    ];
    if withheld {
        notes.push(ctx.withheld_note());
    }
    if any_cell_withheld {
        notes.push(format!(
            "Counts below {} (and any that would reveal one) are withheld and not drawn.",
            ctx.min_cell()
        ));
    }
    ctx.left_out_note(&mut notes);
    let title = "Injection sessions received per course, by condition".to_string();
    let n = groups.len();
    let overall = drawn.first().is_some_and(|r| r.condition == ALL);
    let fig = SessionsFig {
        header: Header {
            title: title.clone(),
            notes,
        },
        groups,
        kmin,
        kmax,
        yhi,
        yticks,
    };
    let alt = format!(
        "Bar chart of the percentage of courses that received each number of injection \
         sessions, for {}.",
        groups_word(n, overall)
    );
    render(&fig, "sessions_received".into(), title, alt)
}

// ---------------------------------------------------------------------------------------------
// 4. Forest plot of mean change

enum ForestRow {
    Heading(String),
    Estimate {
        label: String,
        mean: f64,
        ci: Option<(f64, f64)>,
        n: Option<u64>,
        bold: bool,
    },
}

struct ForestFig {
    header: Header,
    rows: Vec<ForestRow>,
    lo: f64,
    hi: f64,
    ticks: Vec<(f64, String)>,
    decimals: usize,
    xtitle: String,
}

const FOREST_ROW: i32 = 24;

impl ForestFig {
    fn estimate_text(&self, mean: f64, ci: Option<(f64, f64)>) -> String {
        let d = self.decimals;
        match ci {
            Some((l, h)) => format!("{} ({} to {})", num(mean, d), num(l, d), num(h, d)),
            None => num(mean, d),
        }
    }
    fn columns(&self) -> (i32, i32) {
        let labels = self
            .rows
            .iter()
            .map(|r| match r {
                ForestRow::Heading(t) => text_width(t, SMALL, true),
                ForestRow::Estimate { label, bold, .. } => 12 + text_width(label, SMALL, *bold),
            })
            .max()
            .unwrap_or(0);
        let est = self
            .rows
            .iter()
            .filter_map(|r| match r {
                ForestRow::Estimate { mean, ci, .. } => {
                    Some(text_width(&self.estimate_text(*mean, *ci), SMALL, false))
                }
                ForestRow::Heading(_) => None,
            })
            .chain([text_width("Mean (95% CI)", SMALL, true)])
            .max()
            .unwrap_or(0);
        let nw = text_width("n = 00000", SMALL, false);
        (16 + labels + 24, est + 24 + nw + 16)
    }
}

impl Figure for ForestFig {
    fn size(&self) -> (u32, u32) {
        let h = self.header.height() + FOREST_ROW * (self.rows.len() as i32 + 1) + 16 + X_AXIS_H;
        (WIDTH, h.max(HEIGHT as i32) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, pen: &Pen<DB>) -> Drawn<DB> {
        let (w, h) = self.size();
        let (w, h) = (w as i32, h as i32);
        self.header.draw(pen)?;
        let (label_w, text_w) = self.columns();
        let left = label_w.min(w / 2);
        let right = (w - text_w).max(left + 120);
        let top = self.header.height() + FOREST_ROW;
        let bottom = h - X_AXIS_H;
        // Rows spread over the height available, at most 1.5 × the nominal row height.
        let avail = bottom - top - 12;
        let row_h = (avail / (self.rows.len() as i32).max(1)).clamp(FOREST_ROW, FOREST_ROW * 3 / 2);
        let frame = Frame {
            left,
            top,
            right,
            bottom,
            x: Scale::new(self.lo, self.hi, left + 8, right - 8),
            y: Scale::new(0.0, 1.0, bottom, top),
        };
        for (v, _) in &self.ticks {
            let x = frame.x.at(*v);
            pen.line(vec![(x, top), (x, bottom)], GRID.to_rgba(), 1)?;
        }
        let x0 = frame.x.at(0.0);
        pen.line(vec![(x0, top - 6), (x0, bottom)], RULE.to_rgba(), 2)?;
        for (v, t) in &self.ticks {
            let x = frame.x.at(*v);
            pen.line(vec![(x, bottom), (x, bottom + 5)], INK.to_rgba(), 1)?;
            pen.text(t, (x, bottom + 9), Font::new(TICK), HPos::Center, VPos::Top)?;
        }
        pen.line(vec![(left, bottom), (right, bottom)], INK.to_rgba(), 1)?;
        pen.text(
            &self.xtitle,
            ((left + right) / 2, bottom + 36),
            Font::new(AXIS_TITLE),
            HPos::Center,
            VPos::Top,
        )?;
        let hy = top - FOREST_ROW / 2;
        let est_x = right + 16;
        let n_x = w - 16;
        pen.text(
            "Mean (95% CI)",
            (est_x, hy),
            Font::new(SMALL).bold(),
            HPos::Left,
            VPos::Center,
        )?;
        pen.text(
            "n",
            (n_x, hy),
            Font::new(SMALL).bold(),
            HPos::Right,
            VPos::Center,
        )?;
        for (i, row) in self.rows.iter().enumerate() {
            let y = top + 6 + row_h * i as i32 + row_h / 2;
            match row {
                ForestRow::Heading(t) => {
                    pen.text(
                        t,
                        (16, y),
                        Font::new(SMALL).bold(),
                        HPos::Left,
                        VPos::Center,
                    )?;
                }
                ForestRow::Estimate {
                    label,
                    mean,
                    ci,
                    n,
                    bold,
                } => {
                    let f = if *bold {
                        Font::new(SMALL).bold()
                    } else {
                        Font::new(SMALL)
                    };
                    pen.text(label, (28, y), f, HPos::Left, VPos::Center)?;
                    if let Some((l, hgh)) = ci {
                        let (a, b) = (frame.x.at(*l), frame.x.at(*hgh));
                        pen.line(vec![(a, y), (b, y)], INK.to_rgba(), 2)?;
                        pen.line(vec![(a, y - 5), (a, y + 5)], INK.to_rgba(), 2)?;
                        pen.line(vec![(b, y - 5), (b, y + 5)], INK.to_rgba(), 2)?;
                    }
                    let x = frame.x.at(*mean);
                    let r = if *bold { 7 } else { 5 };
                    if *bold {
                        pen.polygon(
                            vec![(x - r, y), (x, y - r), (x + r, y), (x, y + r)],
                            INK.to_rgba(),
                        )?;
                    } else {
                        pen.rect((x - r, y - r), (x + r, y + r), INK.to_rgba())?;
                    }
                    pen.text(
                        &self.estimate_text(*mean, *ci),
                        (est_x, y),
                        Font::new(SMALL),
                        HPos::Left,
                        VPos::Center,
                    )?;
                    pen.text(
                        &short_count(*n),
                        (n_x, y),
                        Font::new(SMALL),
                        HPos::Right,
                        VPos::Center,
                    )?;
                }
            }
        }
        Ok(())
    }
}

fn injections_label(group: &str) -> String {
    let plural = group != "1";
    format!(
        "{} injection{}",
        label(group),
        if plural { "s" } else { "" }
    )
}

fn forest(ctx: &Ctx, key: &(String, String)) -> Option<Chart> {
    let rows: Vec<_> = ctx
        .s
        .change
        .iter()
        .filter(|r| (&r.outcome, &r.instrument) == (&key.0, &key.1))
        .collect();
    let ok = |r: &crate::analysis::change::ChangeRow| {
        !(r.suppressed && r.n.is_none()) && r.mean_change.is_some_and(f64::is_finite)
    };
    let estimate =
        |r: &crate::analysis::change::ChangeRow, label: String, bold: bool| ForestRow::Estimate {
            label,
            mean: r.mean_change.unwrap_or(0.0),
            ci: r
                .ci_low
                .zip(r.ci_high)
                .filter(|(l, h)| l.is_finite() && h.is_finite()),
            n: r.n,
            bold,
        };
    let mut out = Vec::new();
    let overall = rows
        .iter()
        .find(|r| r.condition == ALL && r.injections == ALL)
        .filter(|r| ok(r));
    if let Some(r) = overall {
        out.push(estimate(r, "All conditions".into(), true));
    }
    let by_condition: Vec<_> = rows
        .iter()
        .filter(|r| r.condition != ALL && r.injections == ALL && ctx.draws(&r.condition))
        .collect();
    let shown_conditions: Vec<_> = by_condition.iter().filter(|r| ok(r)).collect();
    let mut withheld = shown_conditions.len() < by_condition.len();
    if !shown_conditions.is_empty() {
        out.push(ForestRow::Heading("By condition".into()));
        for r in shown_conditions {
            out.push(estimate(r, label(&r.condition), false));
        }
    }
    let by_injections: Vec<_> = rows
        .iter()
        .filter(|r| r.condition == ALL && r.injections != ALL)
        .collect();
    let shown_injections: Vec<_> = by_injections.iter().filter(|r| ok(r)).collect();
    withheld |= shown_injections.len() < by_injections.len();
    if !shown_injections.is_empty() {
        out.push(ForestRow::Heading(
            "By injections received, all conditions".into(),
        ));
        for r in shown_injections {
            out.push(estimate(r, injections_label(&r.injections), false));
        }
    }
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for r in &out {
        if let ForestRow::Estimate { mean, ci, .. } = r {
            lo = lo.min(*mean);
            hi = hi.max(*mean);
            if let Some((l, h)) = ci {
                lo = lo.min(*l);
                hi = hi.max(*h);
            }
        }
    }
    if !out.iter().any(|r| matches!(r, ForestRow::Estimate { .. })) {
        return None;
    }
    let (lo, hi, ticks) = nice_axis(lo, hi, 6.0);
    let step = ticks.get(1).map_or(1.0, |t| t.0) - ticks.first().map_or(0.0, |t| t.0);
    let decimals = if step < 1.0 { 2 } else { 1 };
    let outcome = ctx.outcome_name(key);
    let direction = match ctx.better(key) {
        Some(Better::Lower) => " (negative = improvement)",
        Some(Better::Higher) => " (positive = improvement)",
        None => "",
    };
    let what = if key.0 == "pain" {
        format!("pain {}", label(&key.1))
    } else {
        label(&key.1)
    };
    let xtitle = format!("Change in {what}{direction}");
    let mut notes = vec!["Mean change from baseline to final follow-up with 95% CI.".to_string()];
    if withheld {
        notes.push(ctx.withheld_note());
    }
    ctx.left_out_note(&mut notes);
    let title = format!("Mean change from baseline: {outcome}");
    let fig = ForestFig {
        header: Header {
            title: title.clone(),
            notes,
        },
        rows: out,
        lo,
        hi,
        ticks,
        decimals,
        xtitle,
    };
    let alt = format!(
        "Forest plot of the mean change in {outcome} from baseline with 95% confidence \
         intervals, overall, by condition and by number of injections received{}.",
        match direction {
            "" => String::new(),
            d => format!("; {}", d.trim().trim_matches(|c| c == '(' || c == ')')),
        }
    );
    render(&fig, ctx.stem("change", key), title, alt)
}

// ---------------------------------------------------------------------------------------------
// 5. Waterfall of per-course percent change in pain

const RESPONDER: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const NON_RESPONDER: RGBColor = RGBColor(0xE6, 0x9F, 0x00);

struct WaterfallFig<'a> {
    header: Header,
    bars: &'a [(f64, bool)],
    lo: f64,
    hi: f64,
    yticks: Vec<(f64, String)>,
    threshold: Option<f64>,
    ytitle: String,
}

impl WaterfallFig<'_> {
    fn legend(&self) -> Legend {
        let mut entries = vec![
            ("Responder".to_string(), RESPONDER, Swatch::Box(false)),
            (
                "Non-responder".to_string(),
                NON_RESPONDER,
                Swatch::Box(false),
            ),
        ];
        if let Some(t) = self.threshold {
            entries.push((
                format!("Responder threshold (\u{2212}{}%)", num(t, decimals_of(t))),
                INK,
                Swatch::Rule,
            ));
        }
        Legend::new(entries, WIDTH as i32 - 32)
    }
}

/// Decimal places needed to show `v` (up to 2).
fn decimals_of(v: f64) -> usize {
    (0..=2)
        .find(|d| {
            let f = 10f64.powi(*d as i32);
            ((v * f).round() - v * f).abs() < 1e-9
        })
        .unwrap_or(2)
}

impl Figure for WaterfallFig<'_> {
    fn size(&self) -> (u32, u32) {
        (
            WIDTH,
            HEIGHT
                .max((self.header.height() + self.legend().height() + 10 + X_AXIS_H + 300) as u32),
        )
    }

    fn draw<DB: DrawingBackend>(&self, pen: &Pen<DB>) -> Drawn<DB> {
        let (w, h) = self.size();
        let (w, h) = (w as i32, h as i32);
        self.header.draw(pen)?;
        let legend = self.legend();
        let ly = self.header.height();
        legend.draw(pen, 16, ly)?;
        let left = y_axis_w(&self.yticks);
        let top = ly + legend.height() + 10;
        let bottom = h - X_AXIS_H;
        let right = w - 30;
        let n = self.bars.len();
        let pad = 40usize.saturating_sub(n) as f64 / 2.0;
        let frame = Frame {
            left,
            top,
            right,
            bottom,
            // At least 40 slots, so that a handful of courses are bars, not walls.
            x: Scale::new(-pad, n as f64 + pad, left + 4, right),
            y: Scale::new(self.lo, self.hi, bottom, top),
        };
        frame.axes(
            pen,
            &[],
            &self.yticks,
            "Courses, from largest worsening to largest improvement",
            &self.ytitle,
        )?;
        let y0 = frame.y.at(0.0);
        let gap = (right - left) as f64 / (n as f64 + 2.0 * pad).max(1.0) >= 4.0;
        for (i, (pct, responder)) in self.bars.iter().enumerate() {
            let v = pct.clamp(self.lo, self.hi);
            let (a, b) = (frame.x.at(i as f64), frame.x.at(i as f64 + 1.0));
            let b = if gap { b - 1 } else { b.max(a + 1) };
            let c = if *responder { RESPONDER } else { NON_RESPONDER };
            pen.rect((a, y0), (b, frame.y.at(v)), c.to_rgba())?;
        }
        pen.line(vec![(left, y0), (right, y0)], INK.to_rgba(), 1)?;
        if let Some(t) = self.threshold {
            let y = frame.y.at(-t);
            pen.dashed(vec![(left, y), (right, y)], INK.to_rgba(), 2)?;
        }
        Ok(())
    }
}

/// A count in a chart's table, or a dash where it is withheld.
fn short_count(x: Option<u64>) -> String {
    x.map_or("\u{2013}".into(), |c| c.to_string())
}

/// Bars a waterfall draws at most; more courses are drawn in groups (see [`waterfall_bars`]).
const WATERFALL_BARS: usize = 500;

/// One bar per course up to [`WATERFALL_BARS`] courses; beyond, the sorted courses are cut
/// into that many consecutive groups of (nearly) equal size, each drawn at its median and in
/// the colour of the majority of its courses. Returns the bars and the courses per bar.
fn waterfall_bars(bars: &[(f64, bool)]) -> (Vec<(f64, bool)>, usize) {
    let n = bars.len();
    if n <= WATERFALL_BARS {
        return (bars.to_vec(), 1);
    }
    let grouped = (0..WATERFALL_BARS)
        .map(|g| {
            let group = &bars[g * n / WATERFALL_BARS..(g + 1) * n / WATERFALL_BARS];
            let m = group.len();
            // Sorted from the largest value down: the median of a run is its middle.
            let median = if m % 2 == 1 {
                group[m / 2].0
            } else {
                (group[m / 2 - 1].0 + group[m / 2].0) / 2.0
            };
            let responders = group.iter().filter(|b| b.1).count();
            (median, 2 * responders > m)
        })
        .collect();
    (grouped, n.div_ceil(WATERFALL_BARS))
}

fn waterfall(ctx: &Ctx) -> Option<Chart> {
    let wf = &ctx.s.waterfall;
    if wf.bars.is_empty() || wf.bars.iter().any(|b| !b.0.is_finite()) {
        return None;
    }
    let (bars, per_bar) = waterfall_bars(&wf.bars);
    let bars: &[(f64, bool)] = &bars;
    let threshold = wf
        .threshold_pct
        .filter(|t| t.is_finite() && *t > 0.0 && *t <= 100.0);
    let max = bars.iter().map(|b| b.0).fold(0.0, f64::max);
    let min = bars.iter().map(|b| b.0).fold(0.0, f64::min);
    let cut = max > 100.0;
    let (lo, hi, yticks) = nice_axis(
        min.min(-threshold.unwrap_or(0.0)),
        max.clamp(10.0, 100.0),
        6.0,
    );
    let instrument = label(&wf.instrument);
    let change =
        "(final follow-up \u{2212} baseline) / baseline \u{00D7} 100; below 0 = less pain.";
    let mut notes = if per_bar == 1 {
        vec![format!("Each bar is one course: {change}")]
    } else {
        vec![
            format!(
                "{} courses as {WATERFALL_BARS} bars, each the median of up to {per_bar} \
                 neighbouring courses, coloured as most of them are.",
                wf.bars.len()
            ),
            format!("Change = {change}"),
        ]
    };
    if cut {
        notes.push("Bars above +100% are cut off at +100%.".into());
    }
    let title = format!("Percent change in pain ({instrument}) per course");
    let fig = WaterfallFig {
        header: Header {
            title: title.clone(),
            notes,
        },
        bars,
        lo,
        hi: hi.min(100.0).max(lo + 1.0),
        yticks,
        threshold,
        ytitle: format!("Change in pain {instrument} from baseline (%)"),
    };
    let alt = format!(
        "Waterfall chart of the percent change in pain ({instrument}) from baseline for {}, \
         sorted from largest worsening to largest improvement, with responders in blue \
         and non-responders in orange{}.",
        if per_bar == 1 {
            "each course".to_string()
        } else {
            format!("groups of up to {per_bar} courses (median of each group)")
        },
        match threshold {
            Some(t) => format!(
                " and the \u{2212}{}% responder threshold marked",
                num(t, decimals_of(t))
            ),
            None => String::new(),
        }
    );
    render(
        &fig,
        format!("waterfall_pain_{}", slug(&wf.instrument)),
        title,
        alt,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn summary(path: &str, min_cell: u64) -> Summary {
        let settings = Settings {
            min_cell,
            ..Settings::default()
        };
        let mut data = crate::ingest::read(&[path.to_string()], &settings).expect("read");
        let v = crate::validate::validate(&mut data, &settings).expect("validate");
        crate::analysis::run(v, vec![], &settings)
    }

    fn fixture(name: &str) -> String {
        format!("{}/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    fn check(charts: &[Chart]) {
        for c in charts {
            assert!(c.svg.starts_with(b"<svg"), "{}", c.name);
            assert!(c.png.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", c.name);
            assert!(!c.alt.is_empty() && !c.title.is_empty());
            let svg = String::from_utf8(c.svg.clone()).expect("utf-8");
            // Every text element is set in the embedded family.
            for t in svg.split("<text").skip(1) {
                assert!(
                    t.contains(&format!("font-family=\"{FAMILY}\"")),
                    "{}",
                    c.name
                );
            }
        }
    }

    fn names(charts: &[Chart]) -> Vec<&str> {
        charts.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn every_chart_of_the_clean_fixture() {
        let s = summary(&fixture("tests/fixtures/analyze/clean.csv"), 0);
        let charts = all(&s);
        check(&charts);
        let names = names(&charts);
        for n in [
            "response_pain_nrs",
            "trajectory_pain_nrs",
            "sessions_received",
            "change_pain_nrs",
            "waterfall_pain_nrs",
        ] {
            assert!(names.contains(&n), "{n} missing from {names:?}");
        }
        // One per function instrument in the results, too.
        assert!(names.iter().any(|n| n.starts_with("response_function_")));
        assert!(names.iter().any(|n| n.starts_with("change_function_")));
    }

    #[test]
    fn waterfall_groups_many_courses() {
        // Up to WATERFALL_BARS courses: one bar each, as given.
        let few: Vec<(f64, bool)> = (0..WATERFALL_BARS).map(|i| (-(i as f64), i > 3)).collect();
        assert_eq!(waterfall_bars(&few), (few.clone(), 1));
        // 4 courses per bar: the median of each run of 4, the colour of most of them.
        let n = 4 * WATERFALL_BARS;
        let many: Vec<(f64, bool)> = (0..n).map(|i| (-(i as f64), i % 4 != 0)).collect();
        let (bars, per_bar) = waterfall_bars(&many);
        assert_eq!((bars.len(), per_bar), (WATERFALL_BARS, 4));
        assert_eq!(bars[0], (-1.5, true));
        assert_eq!(bars[WATERFALL_BARS - 1], (-(n as f64) + 2.5, true));
        // Uneven groups: every course is in exactly one group.
        let odd: Vec<(f64, bool)> = (0..WATERFALL_BARS * 3 + 7)
            .map(|i| (-(i as f64), false))
            .collect();
        let (bars, per_bar) = waterfall_bars(&odd);
        assert_eq!((bars.len(), per_bar), (WATERFALL_BARS, 4));
        assert!(bars.windows(2).all(|w| w[0].0 > w[1].0));
        assert!(bars.iter().all(|b| !b.1));
    }

    #[test]
    fn same_input_same_bytes() {
        let s = summary(&fixture("datasets/sample.csv"), 11);
        let a = all(&s);
        let b = all(&s);
        check(&a);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.name, y.name);
            assert!(x.svg == y.svg && x.png == y.png, "{}", x.name);
        }
    }

    fn write_csv(dir: &std::path::Path, rows: &[(&str, &str, u32)]) -> String {
        // (patient, condition, courses' pattern index)
        let mut text =
            String::from("patient_id,condition,day,injection,pain,function,function_instrument\n");
        for (p, c, k) in rows {
            let c = format!("\"{}\"", c.replace('"', "\"\""));
            let base = 6 + (k % 4);
            text.push_str(&format!("{p},{c},0,1,{base},{},WOMAC\n", 40 + k % 7));
            text.push_str(&format!("{p},{c},30,1,{},{},WOMAC\n", base - 1, 36 + k % 5));
            text.push_str(&format!(
                "{p},{c},60,0,{},{},WOMAC\n",
                base - 2 - k % 3,
                30 + k % 9
            ));
        }
        let path = dir.join("records.csv");
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
    }

    #[test]
    fn input_text_is_escaped_in_svg() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hostile = "<script>alert(1)</script> & \"q\"";
        let mut rows = Vec::new();
        let ids: Vec<String> = (0..30).map(|i| format!("P{i}")).collect();
        for (i, id) in ids.iter().enumerate() {
            let c = if i % 2 == 0 { hostile } else { "knee_oa" };
            rows.push((id.as_str(), c, i as u32));
        }
        let s = summary(&write_csv(dir.path(), &rows), 0);
        let charts = all(&s);
        check(&charts);
        assert!(!charts.is_empty());
        let mut seen = false;
        for c in &charts {
            let svg = String::from_utf8(c.svg.clone()).expect("utf-8");
            assert!(!svg.contains("<script"), "{}", c.name);
            assert!(!svg.contains("\"q\""), "{}", c.name);
            seen |= svg.contains("&lt;script&gt;");
        }
        assert!(seen, "the condition is drawn, escaped");
    }

    #[test]
    fn withheld_groups_are_not_drawn() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ids: Vec<String> = (0..40).map(|i| format!("P{i}")).collect();
        let rows: Vec<(&str, &str, u32)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let c = match i {
                    0..=2 => "rare_condition_zz",
                    3..=21 => "knee_oa",
                    _ => "low_back_pain",
                };
                (id.as_str(), c, i as u32)
            })
            .collect();
        let path = write_csv(dir.path(), &rows);
        let s = summary(&path, 11);
        let charts = all(&s);
        check(&charts);
        assert!(!charts.is_empty());
        for c in &charts {
            let svg = String::from_utf8(c.svg.clone()).expect("utf-8");
            assert!(!svg.contains("rare_condition_zz"), "{}", c.name);
        }
        let svg = String::from_utf8(charts[0].svg.clone()).expect("utf-8");
        assert!(svg.contains("knee_oa") && svg.contains("withheld"));
        // Without suppression it is drawn.
        let s = summary(&path, 0);
        let svg = String::from_utf8(all(&s)[0].svg.clone()).expect("utf-8");
        assert!(svg.contains("rare_condition_zz"));
    }

    /// The clean fixture with thirty more conditions, long names, and no CI anywhere.
    fn crowded() -> Summary {
        let mut s = summary(&fixture("tests/fixtures/analyze/clean.csv"), 0);
        let name = |i: usize| format!("condition_with_a_very_long_name_number_{i:02}");
        // For each outcome, the rows of its first condition, copied under thirty new names.
        let pick = |rows: Vec<(String, String, String)>| {
            let mut chosen: Vec<(String, String, String)> = Vec::new();
            for (o, i, c) in rows {
                if c != ALL && !chosen.iter().any(|(a, b, _)| *a == o && *b == i) {
                    chosen.push((o, i, c));
                }
            }
            chosen
        };
        let km_keys = pick(
            s.sessions_to_response
                .iter()
                .map(|r| (r.outcome.clone(), r.instrument.clone(), r.condition.clone()))
                .collect(),
        );
        let change_keys = pick(
            s.change
                .iter()
                .map(|r| (r.outcome.clone(), r.instrument.clone(), r.condition.clone()))
                .collect(),
        );
        let trajectory_keys = pick(
            s.trajectory
                .iter()
                .map(|r| (r.outcome.clone(), r.instrument.clone(), r.condition.clone()))
                .collect(),
        );
        let is = |k: &[(String, String, String)], o: &str, i: &str, c: &str| {
            k.iter().any(|(a, b, d)| a == o && b == i && d == c)
        };
        let km: Vec<_> = s
            .sessions_to_response
            .iter()
            .filter(|r| is(&km_keys, &r.outcome, &r.instrument, &r.condition))
            .cloned()
            .collect();
        let change: Vec<_> = s
            .change
            .iter()
            .filter(|r| {
                r.injections == ALL && is(&change_keys, &r.outcome, &r.instrument, &r.condition)
            })
            .cloned()
            .collect();
        let trajectory: Vec<_> = s
            .trajectory
            .iter()
            .filter(|r| is(&trajectory_keys, &r.outcome, &r.instrument, &r.condition))
            .cloned()
            .collect();
        let sessions: Vec<_> = s
            .sessions_received
            .iter()
            .filter(|r| r.condition != ALL)
            .cloned()
            .collect();
        for i in 0..30 {
            for r in &km {
                let mut r = r.clone();
                r.condition = name(i);
                s.sessions_to_response.push(r);
            }
            for r in &change {
                let mut r = r.clone();
                r.condition = name(i);
                s.change.push(r);
            }
            for r in &trajectory {
                let mut r = r.clone();
                r.condition = name(i);
                s.trajectory.push(r);
            }
            let mut r = sessions[i % sessions.len()].clone();
            r.condition = name(i);
            s.sessions_received.push(r);
        }
        for r in &mut s.sessions_to_response {
            r.median_ci_low = None;
            r.median_ci_high = None;
            for p in &mut r.curve {
                p.ci_low = None;
                p.ci_high = None;
            }
        }
        for r in &mut s.change {
            r.ci_low = None;
            r.ci_high = None;
        }
        for r in &mut s.trajectory {
            r.ci_low = None;
            r.ci_high = None;
        }
        s
    }

    #[test]
    fn odd_summaries_do_not_panic() {
        let mut s = crowded();
        let charts = all(&s);
        check(&charts);
        let svg = String::from_utf8(charts[0].svg.clone()).expect("utf-8");
        assert!(svg.contains("condition_with_a_v\u{2026}number_00"));

        // The other fixtures: defects, one course, two conditions, no change.
        for (f, min_cell) in [
            ("defects", 11),
            ("edge_single", 0),
            ("edge_two_conditions", 11),
            ("edge_zero_change", 0),
        ] {
            let path = fixture(&format!("tests/fixtures/analyze/{f}.csv"));
            check(&all(&summary(&path, min_cell)));
        }

        // Everything empty.
        s.sessions_to_response.clear();
        s.trajectory.clear();
        s.sessions_received.clear();
        s.change.clear();
        s.waterfall.bars.clear();
        assert!(all(&s).is_empty());
    }

    #[test]
    fn labels_are_cut_and_cleaned() {
        assert_eq!(label("a\u{202E}b\tc"), "ab c");
        assert_eq!(label(&"x".repeat(40)).chars().count(), LABEL_CHARS);
        assert_eq!(slug("VISA-A"), "visa_a");
        assert_eq!(num(-0.0001, 1), "0.0");
        assert_eq!(num(-1.25, 1), "\u{2212}1.2");
    }

    #[test]
    fn step_line_starts_at_zero_and_rises_vertically() {
        let p = |k, c| CurvePoint {
            injections: k,
            at_risk: Some(10),
            events: Some(1),
            censored: Some(0),
            cum_response: Some(c),
            ci_low: None,
            ci_high: None,
            suppressed: false,
        };
        let s = steps(&[p(1, 0.2), p(3, 0.5)]);
        assert_eq!(
            s,
            vec![
                (0.0, 0.0),
                (1.0, 0.0),
                (1.0, 20.0),
                (3.0, 20.0),
                (3.0, 50.0)
            ]
        );
    }

    /// Writes every chart to /tmp/charts for a look:
    /// `cargo test --lib render::charts -- --ignored`.
    #[test]
    #[ignore]
    fn write_for_a_look() {
        let out = std::path::Path::new("/tmp/charts");
        std::fs::create_dir_all(out).expect("mkdir");
        let summaries = [
            (
                "clean",
                summary(&fixture("tests/fixtures/analyze/clean.csv"), 0),
            ),
            ("sample", summary(&fixture("datasets/sample.csv"), 11)),
            ("crowded", crowded()),
            (
                "single",
                summary(&fixture("tests/fixtures/analyze/edge_single.csv"), 0),
            ),
            (
                "zero",
                summary(&fixture("tests/fixtures/analyze/edge_zero_change.csv"), 0),
            ),
            (
                "two",
                summary(
                    &fixture("tests/fixtures/analyze/edge_two_conditions.csv"),
                    11,
                ),
            ),
            (
                "defects",
                summary(&fixture("tests/fixtures/analyze/defects.csv"), 11),
            ),
        ];
        for (tag, s) in summaries {
            for c in all(&s) {
                std::fs::write(out.join(format!("{tag}_{}.png", c.name)), &c.png).expect("png");
                std::fs::write(out.join(format!("{tag}_{}.svg", c.name)), &c.svg).expect("svg");
            }
        }
    }
}
