//! A handover's signature: the strokes a person drew on the Desk's pad (or an SVG file
//! given to the CLI), kept as SVG path data. What is stored is never the file that came
//! in: it is parsed ([`roxmltree`]: a small, strict, read-only XML parser that resolves no
//! external entities), every path's data is checked against SVG's path grammar, and a
//! new SVG is written from the checked numbers alone, so nothing a crafted file carried
//! (a script, a link, a style, an entity) can reach a receipt.
//!
//! Accepted: an `<svg>` root holding only `<path d="…">` elements, optionally inside
//! `<g>` groups and beside a `<title>`/`<desc>`; at most [`MAX_BYTES`]; at least one
//! drawn segment. Path commands: M, L, H, V, C, S, Q, T and Z, absolute and relative
//! (arcs are not drawn by a pad and are refused).

use serde::Serialize;

use crate::error::{Error, Result};

/// The largest signature file accepted (SPEC §10).
pub const MAX_BYTES: usize = 256 * 1024;

/// The canvas a signature is drawn in when its file gives no `viewBox`.
const DEFAULT_BOX: ViewBox = ViewBox {
    width: 600.0,
    height: 200.0,
};

/// The size of the drawing area (the `viewBox`, from 0,0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ViewBox {
    pub width: f64,
    pub height: f64,
}

/// One piece of a stroke, in absolute coordinates of the [`ViewBox`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Segment {
    Move(f64, f64),
    Line(f64, f64),
    /// Two control points, then the end point.
    Cubic(f64, f64, f64, f64, f64, f64),
    /// One control point, then the end point.
    Quad(f64, f64, f64, f64),
    Close,
}

/// A checked signature: its drawing area and strokes.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    pub view_box: ViewBox,
    /// One entry per `<path>`, each starting with a move.
    pub paths: Vec<Vec<Segment>>,
}

fn refuse(reason: impl Into<String>) -> Error {
    Error::invalid_rule(
        "signature",
        "signature_invalid",
        serde_json::Value::Null,
        format!(
            "is not a signature this register can keep: {}. Draw it again on the pad, or give an SVG file of paths (at most 256 KB)",
            reason.into()
        ),
    )
}

impl Signature {
    /// Checks an SVG text; refused with the reason when it is not an SVG of paths, is
    /// larger than [`MAX_BYTES`], or draws nothing.
    pub fn parse(svg: &str) -> Result<Signature> {
        if svg.len() > MAX_BYTES {
            return Err(refuse(format!(
                "it is {} KB, more than 256 KB",
                svg.len().div_ceil(1024)
            )));
        }
        let doc = roxmltree::Document::parse(svg)
            .map_err(|e| refuse(format!("it is not well-formed XML ({e})")))?;
        let root = doc.root_element();
        if root.tag_name().name() != "svg" {
            return Err(refuse(format!(
                "its root element is <{}>, not <svg>",
                root.tag_name().name()
            )));
        }
        let view_box = match root.attribute("viewBox") {
            Some(v) => parse_view_box(v)?,
            None => DEFAULT_BOX,
        };
        let mut paths = Vec::new();
        collect_paths(root, &mut paths)?;
        if !paths
            .iter()
            .flatten()
            .any(|s| !matches!(s, Segment::Move(..) | Segment::Close))
        {
            return Err(refuse("it draws nothing"));
        }
        Ok(Signature { view_box, paths })
    }

    /// The SVG this register stores and prints: written from the checked numbers only.
    pub fn to_svg(&self) -> String {
        let mut out = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" fill="none" stroke="black" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">"#,
            num(self.view_box.width),
            num(self.view_box.height)
        );
        for path in &self.paths {
            out.push_str(r#"<path d=""#);
            out.push_str(&path_data(path));
            out.push_str(r#""/>"#);
        }
        out.push_str("</svg>");
        out
    }
}

/// A number as short as it stays exact to 0.01 of a unit (a pad's resolution).
fn num(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    let s = format!("{r:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

fn path_data(path: &[Segment]) -> String {
    let mut d = String::new();
    for s in path {
        if !d.is_empty() {
            d.push(' ');
        }
        match *s {
            Segment::Move(x, y) => d.push_str(&format!("M{} {}", num(x), num(y))),
            Segment::Line(x, y) => d.push_str(&format!("L{} {}", num(x), num(y))),
            Segment::Cubic(a, b, c, e, x, y) => d.push_str(&format!(
                "C{} {} {} {} {} {}",
                num(a),
                num(b),
                num(c),
                num(e),
                num(x),
                num(y)
            )),
            Segment::Quad(a, b, x, y) => {
                d.push_str(&format!("Q{} {} {} {}", num(a), num(b), num(x), num(y)))
            }
            Segment::Close => d.push('Z'),
        }
    }
    d
}

fn parse_view_box(v: &str) -> Result<ViewBox> {
    let n: Vec<f64> = v
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<f64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| refuse(format!("its viewBox \"{v}\" is not four numbers")))?;
    match n.as_slice() {
        [0.0, 0.0, w, h] if w.is_finite() && h.is_finite() && *w > 0.0 && *h > 0.0 => Ok(ViewBox {
            width: *w,
            height: *h,
        }),
        _ => Err(refuse(format!(
            "its viewBox \"{v}\" must be \"0 0 WIDTH HEIGHT\" with a positive width and height"
        ))),
    }
}

fn collect_paths(node: roxmltree::Node, out: &mut Vec<Vec<Segment>>) -> Result<()> {
    for child in node.children() {
        if child.is_comment() || (child.is_text() && child.text().unwrap_or("").trim().is_empty()) {
            continue;
        }
        if !child.is_element() {
            return Err(refuse("it holds text or instructions besides its paths"));
        }
        match child.tag_name().name() {
            "path" => {
                let d = child
                    .attribute("d")
                    .ok_or_else(|| refuse("a <path> has no d attribute"))?;
                let segments = parse_path(d)?;
                if !segments.is_empty() {
                    out.push(segments);
                }
            }
            "g" => collect_paths(child, out)?,
            "title" | "desc" => {}
            other => {
                return Err(refuse(format!(
                    "it holds a <{other}> element; only <path> (in <g>) is kept"
                )))
            }
        }
    }
    Ok(())
}

/// Parses SVG path data into absolute segments (H and V become lines, S and T their
/// explicit curves). Refused: arcs, and anything that is not a command or a number.
pub fn parse_path(d: &str) -> Result<Vec<Segment>> {
    let mut p = PathLexer {
        s: d.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    let (mut x, mut y) = (0.0f64, 0.0f64);
    let (mut start_x, mut start_y) = (0.0f64, 0.0f64);
    // The last control point, for S and T.
    let mut last_cubic: Option<(f64, f64)> = None;
    let mut last_quad: Option<(f64, f64)> = None;
    let mut cmd: Option<u8> = None;
    loop {
        p.skip_separators();
        if p.done() {
            break;
        }
        let c = p.s[p.i];
        if c.is_ascii_alphabetic() {
            p.i += 1;
            cmd = Some(c);
        } else if cmd.is_none() || matches!(cmd, Some(b'Z' | b'z')) {
            return Err(refuse(format!(
                "its path data has \"{}\" where a command letter belongs",
                p.rest_preview()
            )));
        }
        let c = cmd.expect("set above");
        let rel = c.is_ascii_lowercase();
        let (ox, oy) = if rel { (x, y) } else { (0.0, 0.0) };
        match c.to_ascii_uppercase() {
            b'M' => {
                let (nx, ny) = (ox + p.number()?, oy + p.number()?);
                out.push(Segment::Move(nx, ny));
                (x, y, start_x, start_y) = (nx, ny, nx, ny);
                // Further pairs after a move are lines.
                cmd = Some(if rel { b'l' } else { b'L' });
                last_cubic = None;
                last_quad = None;
            }
            b'L' => {
                (x, y) = (ox + p.number()?, oy + p.number()?);
                out.push(Segment::Line(x, y));
                (last_cubic, last_quad) = (None, None);
            }
            b'H' => {
                x = ox + p.number()?;
                out.push(Segment::Line(x, y));
                (last_cubic, last_quad) = (None, None);
            }
            b'V' => {
                y = oy + p.number()?;
                out.push(Segment::Line(x, y));
                (last_cubic, last_quad) = (None, None);
            }
            b'C' | b'S' => {
                let (c1x, c1y) = if c.eq_ignore_ascii_case(&b'C') {
                    (ox + p.number()?, oy + p.number()?)
                } else {
                    last_cubic.map_or((x, y), |(lx, ly)| (2.0 * x - lx, 2.0 * y - ly))
                };
                let (c2x, c2y) = (ox + p.number()?, oy + p.number()?);
                (x, y) = (ox + p.number()?, oy + p.number()?);
                out.push(Segment::Cubic(c1x, c1y, c2x, c2y, x, y));
                (last_cubic, last_quad) = (Some((c2x, c2y)), None);
            }
            b'Q' | b'T' => {
                let (cx, cy) = if c.eq_ignore_ascii_case(&b'Q') {
                    (ox + p.number()?, oy + p.number()?)
                } else {
                    last_quad.map_or((x, y), |(lx, ly)| (2.0 * x - lx, 2.0 * y - ly))
                };
                (x, y) = (ox + p.number()?, oy + p.number()?);
                out.push(Segment::Quad(cx, cy, x, y));
                (last_cubic, last_quad) = (None, Some((cx, cy)));
            }
            b'Z' => {
                out.push(Segment::Close);
                (x, y) = (start_x, start_y);
                (last_cubic, last_quad) = (None, None);
            }
            b'A' => {
                return Err(refuse(
                    "its path data draws an arc (A), which a pad never draws",
                ))
            }
            _ => {
                return Err(refuse(format!(
                    "its path data has the unknown command \"{}\"",
                    c as char
                )))
            }
        }
        if !matches!(out.first(), Some(Segment::Move(..))) {
            return Err(refuse("its path data does not start with a move (M)"));
        }
    }
    Ok(out)
}

struct PathLexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl PathLexer<'_> {
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }

    fn skip_separators(&mut self) {
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_whitespace() || self.s[self.i] == b',')
        {
            self.i += 1;
        }
    }

    fn rest_preview(&self) -> String {
        String::from_utf8_lossy(&self.s[self.i..(self.i + 12).min(self.s.len())]).into_owned()
    }

    /// One number: an optional sign, digits with an optional fraction, an optional
    /// exponent; finite.
    fn number(&mut self) -> Result<f64> {
        self.skip_separators();
        let start = self.i;
        let s = self.s;
        let mut i = self.i;
        if i < s.len() && matches!(s[i], b'+' | b'-') {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let from = *i;
            while *i < s.len() && s[*i].is_ascii_digit() {
                *i += 1;
            }
            *i > from
        };
        let whole = digits(&mut i);
        let mut fraction = false;
        if i < s.len() && s[i] == b'.' {
            i += 1;
            fraction = digits(&mut i);
        }
        if !whole && !fraction {
            return Err(refuse(if self.done() {
                "its path data ends where a number belongs".to_string()
            } else {
                format!(
                    "its path data has \"{}\" where a number belongs",
                    self.rest_preview()
                )
            }));
        }
        if i < s.len() && matches!(s[i], b'e' | b'E') {
            let mut j = i + 1;
            if j < s.len() && matches!(s[j], b'+' | b'-') {
                j += 1;
            }
            if digits(&mut j) {
                i = j;
            }
        }
        let text = std::str::from_utf8(&s[start..i]).expect("ASCII");
        let v: f64 = text.parse().map_err(|_| {
            refuse(format!(
                "its path data has \"{text}\" where a number belongs"
            ))
        })?;
        if !v.is_finite() || v.abs() > 1e6 {
            return Err(refuse(format!(
                "its path data has the number {text}, out of range"
            )));
        }
        self.i = i;
        Ok(v)
    }
}

/// Reads a signature file for [`Signature::parse`]: never more than one byte past
/// [`MAX_BYTES`], so a huge file is refused by size without being read whole.
pub fn read_file(path: &std::path::Path) -> Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::io("read the signature file", path, e))?;
    if bytes.len() > MAX_BYTES {
        return Err(refuse("it is more than 256 KB"));
    }
    String::from_utf8(bytes).map_err(|_| refuse("it is not UTF-8 text"))
}

/// The SHA-256 of a stored signature, as the audit row of its receipt carries it.
pub fn sha256(svg: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(svg.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pad_drawing_is_kept_as_its_path_data() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 200">
            <path d="M10 20 L30.5 40 L50,60"/><path d="m100 100 l10 0 h5 v5 z"/></svg>"#;
        let s = Signature::parse(svg).unwrap();
        assert_eq!(
            s.view_box,
            ViewBox {
                width: 600.0,
                height: 200.0
            }
        );
        assert_eq!(
            s.paths[1],
            vec![
                Segment::Move(100.0, 100.0),
                Segment::Line(110.0, 100.0),
                Segment::Line(115.0, 100.0),
                Segment::Line(115.0, 105.0),
                Segment::Close
            ]
        );
        let kept = s.to_svg();
        assert!(
            kept.contains(r#"<path d="M10 20 L30.5 40 L50 60"/>"#),
            "{kept}"
        );
        // What is kept parses back to the same strokes.
        assert_eq!(Signature::parse(&kept).unwrap(), s);
    }

    #[test]
    fn curves_smooth_curves_and_groups_are_read() {
        let svg = r#"<svg viewBox="0 0 100 50"><title>x</title><g><path d="M0 0 C1 1 2 2 3 3 S5 5 6 6 Q7 7 8 8 T10 10"/></g></svg>"#;
        let s = Signature::parse(svg).unwrap();
        assert_eq!(
            s.paths[0][2],
            Segment::Cubic(4.0, 4.0, 5.0, 5.0, 6.0, 6.0),
            "S reflects the last control point"
        );
        assert_eq!(s.paths[0][4], Segment::Quad(9.0, 9.0, 10.0, 10.0));
    }

    #[test]
    fn anything_but_an_svg_of_paths_is_refused_with_the_reason() {
        let cases = [
            ("<html><path d='M0 0 L1 1'/></html>", "root element is <html>"),
            ("<svg><path d='M0 0 L1 1'/><script>alert(1)</script></svg>", "<script>"),
            ("<svg><image href='x.png'/></svg>", "<image>"),
            ("<svg><path d='M0 0 L1 1'/>hello</svg>", "text"),
            ("<svg><path/></svg>", "no d attribute"),
            ("<svg><path d='M0 0 A 5 5 0 0 1 10 10'/></svg>", "arc"),
            ("<svg><path d='L1 1'/></svg>", "start with a move"),
            ("<svg><path d='M0 0 L1'/></svg>", "ends where a number belongs"),
            ("<svg><path d='M0 0 Lx 1'/></svg>", "where a number belongs"),
            ("<svg><path d='M0 0'/></svg>", "draws nothing"),
            ("<svg></svg>", "draws nothing"),
            ("<svg viewBox='0 0 -5 10'><path d='M0 0 L1 1'/></svg>", "viewBox"),
            ("<svg", "well-formed"),
            (
                "<!DOCTYPE svg [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><svg><path d='&x;'/></svg>",
                "well-formed",
            ),
        ];
        for (svg, says) in cases {
            let e = Signature::parse(svg).unwrap_err();
            assert_eq!(e.code(), "invalid_input", "{svg}");
            assert!(e.message().contains(says), "{svg}: {}", e.message());
        }
    }

    #[test]
    fn a_file_over_256_kb_is_refused_before_it_is_read() {
        let mut svg = String::from("<svg><path d='M0 0");
        while svg.len() <= MAX_BYTES {
            svg.push_str(" L1 1");
        }
        svg.push_str("'/></svg>");
        let e = Signature::parse(&svg).unwrap_err();
        assert!(e.message().contains("more than 256 KB"), "{}", e.message());
    }
}
