//! A receipt as PDF: one [`Receipt`] laid out on A4 (the holder's copy above, the office's
//! below, a cut line between) or on an 80 mm thermal roll, in Latvian or English. It only
//! draws: it reads and writes nothing, so the caller notes the print
//! ([`crate::receipts::mark_printed`]) and passes the receipt as it was before, whose
//! `printed` count makes a reprint say "copy".
//!
//! Crates: `krilla` (typst's PDF writer) embeds a subset of the font with its Unicode map,
//! so the text stays selectable and searchable; `notosans` ships Noto Sans 1.04 Regular
//! and Bold as bytes (every Latvian letter), so no font file lives in this repository nor
//! is looked for on the machine: the crate is MIT/Apache-2.0 and ships the fonts under the
//! SIL Open Font Licence 1.1 (the fonts' own name table, from before Noto moved to the OFL,
//! says Apache-2.0; both allow embedding); `rustybuzz`, the shaper krilla draws text with,
//! measures it for wrapping, so measured and drawn widths agree.

use chrono::{DateTime, TimeZone};
use krilla::color::luma;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, LineCap, LineJoin, Stroke, StrokeDash};
use krilla::text::{Font, TextDirection};
use krilla::Document;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::receipts::Receipt;
use crate::signature::{Segment, Signature};

/// The paper a receipt is laid out for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// One A4 page: the holder's copy on the top half, the office's on the bottom half,
    /// each labelled. A handover too long for half a page (a very large set) flows each
    /// copy over whole pages instead.
    A4TwoCopies,
    /// One copy, 80 mm wide and as long as it needs.
    Thermal80,
}

/// The language of the labels. The terms are the ones in that language, else the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    Lv,
    En,
}

const MM: f32 = 72.0 / 25.4;
const A4_W: f32 = 210.0 * MM;
const A4_H: f32 = 297.0 * MM;
const A4_MARGIN: f32 = 15.0 * MM;
const ROLL_W: f32 = 80.0 * MM;
/// Thermal heads print about 72 mm of an 80 mm roll.
const ROLL_MARGIN: f32 = 4.0 * MM;
/// The body text size on A4 and on the roll, before any shrinking to fit.
const A4_SIZE: f32 = 10.0;
const ROLL_SIZE: f32 = 8.0;
const GRAY: u8 = 90;
const LIGHT: u8 = 170;

/// Saves receipt `number` as a PDF at `out` (written beside as `.partial`, flushed, then
/// renamed into place) in the desktop's time zone, and counts it as printed, audited:
/// the first print or save is the original, every later one says "copy". Anyone signed
/// in may (receipts show what the key log shows). Returns the receipt as it was printed.
pub fn save(
    store: &mut crate::Store,
    actor: &crate::Actor,
    number: i64,
    out: &std::path::Path,
    lang: Lang,
    layout: Layout,
) -> Result<Receipt> {
    use std::io::Write;
    actor.require(crate::Role::Viewer, "print receipts")?;
    let r = crate::receipts::get(store.conn(), number)?;
    let pdf = render(&r, lang, layout, &chrono::Local)?;
    let file = crate::export::PartialFile::new(out);
    let mut f = file.create()?;
    f.write_all(&pdf)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io("write", &file.partial, e))?;
    drop(f);
    let how = match layout {
        Layout::A4TwoCopies => "pdf_a4",
        Layout::Thermal80 => "pdf_80mm",
    };
    crate::receipts::mark_printed(store, actor, number, how)?;
    file.commit()?;
    Ok(r)
}

/// Renders a receipt as a PDF. Times are shown in `tz` (callers pass `chrono::Local`) as
/// dd.mm.yyyy HH:MM. Fails only when the stored signature no longer reads as one.
pub fn render<Tz: TimeZone>(r: &Receipt, lang: Lang, layout: Layout, tz: &Tz) -> Result<Vec<u8>> {
    let fonts = Fonts::load()?;
    let signature = r.signature.as_deref().map(Signature::parse).transpose()?;
    let l = labels(lang);
    let facts = Facts::of(r, lang, tz);
    let pages = match layout {
        Layout::A4TwoCopies => a4_pages(&fonts, l, r, &facts),
        Layout::Thermal80 => {
            let c = Composer::new(&fonts, l, ROLL_W - 2.0 * ROLL_MARGIN, ROLL_SIZE, 1, true);
            let blocks = c.copy(r, &facts, None);
            let height = blocks.iter().map(|b| b.h).sum::<f32>() + 2.0 * ROLL_MARGIN + 6.0 * MM;
            let mut page = Page::new(ROLL_W, height);
            page.stack(ROLL_MARGIN, ROLL_MARGIN, blocks);
            vec![page]
        }
    };

    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(format!("{} {} {}", facts.title, l.number, r.number))
            .language(lang.code().into())
            .creator("Atslegas".into()),
    );
    for page in &pages {
        let settings = PageSettings::from_wh(page.w, page.h).ok_or_else(|| failed("page size"))?;
        let mut p = doc.start_page_with(settings);
        let mut surface = p.surface();
        for (x, y, block) in &page.placed {
            for op in &block.ops {
                draw(&mut surface, &fonts, signature.as_ref(), *x, *y, op);
            }
        }
        surface.finish();
        p.finish();
    }
    doc.finish().map_err(|e| match e {
        krilla::error::KrillaError::Font(_, why) => failed(&format!("the font: {why}")),
        _ => failed("the PDF writer refused the page"),
    })
}

fn failed(reason: &str) -> Error {
    Error::invalid_rule(
        "receipt",
        "receipt_pdf_failed",
        serde_json::json!({ "reason": reason }),
        format!("the receipt could not be written as PDF ({reason})"),
    )
}

impl Lang {
    fn code(self) -> &'static str {
        match self {
            Lang::Lv => "lv",
            Lang::En => "en",
        }
    }
}

/// What a receipt says, in words.
struct Labels {
    title_issue: &'static str,
    title_return: &'static str,
    number: &'static str,
    at: &'static str,
    person: &'static str,
    code: &'static str,
    department: &'static str,
    set: &'static str,
    due: &'static str,
    by_issue: &'static str,
    by_return: &'static str,
    keys: &'static str,
    col_number: &'static str,
    col_room: &'static str,
    col_location: &'static str,
    terms: &'static str,
    holder_signature: &'static str,
    staff_signature: &'static str,
    not_signed: &'static str,
    audit_hash: &'static str,
    audit_check: &'static str,
    holder_copy: &'static str,
    office_copy: &'static str,
    reprint: &'static str,
    cut_here: &'static str,
    continued: &'static str,
}

fn labels(lang: Lang) -> &'static Labels {
    // The copy labels never say "copy"/"kopija": those words mark a reprint only.
    static LV: Labels = Labels {
        title_issue: "Atslēgu izsniegšanas kvīts",
        title_return: "Atslēgu atgriešanas kvīts",
        number: "Nr.",
        at: "Datums un laiks",
        person: "Persona",
        code: "Kods",
        department: "Nodaļa",
        set: "Komplekts",
        due: "Jāatdod līdz",
        by_issue: "Izsniedza",
        by_return: "Pieņēma",
        keys: "Atslēgas",
        col_number: "Nr.",
        col_room: "Telpa",
        col_location: "Atrašanās vieta",
        terms: "Noteikumi",
        holder_signature: "Atslēgu turētāja paraksts",
        staff_signature: "Biroja darbinieka paraksts",
        not_signed: "nav parakstīts",
        audit_hash: "Audita ķēdes jaucējkods",
        audit_check: "Pārbaudāms ar komandu: atslegas-cli audit verify",
        holder_copy: "Turētāja eksemplārs",
        office_copy: "Biroja eksemplārs",
        reprint: "KOPIJA (atkārtota izdruka)",
        cut_here: "griezt šeit",
        continued: "turpinājums",
    };
    static EN: Labels = Labels {
        title_issue: "Key issue receipt",
        title_return: "Key return receipt",
        number: "No.",
        at: "Date and time",
        person: "Person",
        code: "Code",
        department: "Department",
        set: "Key set",
        due: "Due back",
        by_issue: "Issued by",
        by_return: "Received by",
        keys: "Keys",
        col_number: "No.",
        col_room: "Room",
        col_location: "Location",
        terms: "Terms",
        holder_signature: "Key holder's signature",
        staff_signature: "Office staff signature",
        not_signed: "not signed",
        audit_hash: "Audit chain hash",
        audit_check: "Check it with: atslegas-cli audit verify",
        holder_copy: "For the key holder",
        office_copy: "For the office",
        reprint: "COPY (reprint)",
        cut_here: "cut here",
        continued: "continued",
    };
    match lang {
        Lang::Lv => &LV,
        Lang::En => &EN,
    }
}

/// The receipt's values as text.
struct Facts {
    title: &'static str,
    at: String,
    due: Option<String>,
    terms: Option<String>,
    by_label: &'static str,
}

impl Facts {
    fn of<Tz: TimeZone>(r: &Receipt, lang: Lang, tz: &Tz) -> Facts {
        let l = labels(lang);
        let is_return = r.kind == "return";
        let nonblank = |t: &Option<String>| t.clone().filter(|t| !t.trim().is_empty());
        let terms = match lang {
            Lang::Lv => nonblank(&r.terms_lv).or_else(|| nonblank(&r.terms_en)),
            Lang::En => nonblank(&r.terms_en).or_else(|| nonblank(&r.terms_lv)),
        };
        Facts {
            title: if is_return {
                l.title_return
            } else {
                l.title_issue
            },
            at: local_time(r.at, tz),
            due: r.due_back_at.map(|t| local_time(t, tz)),
            terms,
            by_label: if is_return { l.by_return } else { l.by_issue },
        }
    }
}

/// dd.mm.yyyy HH:MM in `tz`.
fn local_time<Tz: TimeZone>(ts: i64, tz: &Tz) -> String {
    match DateTime::from_timestamp(ts, 0) {
        Some(t) => t
            .with_timezone(tz)
            .naive_local()
            .format("%d.%m.%Y %H:%M")
            .to_string(),
        None => ts.to_string(),
    }
}

/// One face: krilla's handle to embed it, rustybuzz's to measure with.
struct Face {
    pdf: Font,
    shaper: rustybuzz::Face<'static>,
    upem: f32,
}

impl Face {
    fn load(bytes: &'static [u8]) -> Result<Face> {
        let pdf = Font::new(bytes.into(), 0).ok_or_else(|| failed("font"))?;
        let shaper = rustybuzz::Face::from_slice(bytes, 0).ok_or_else(|| failed("font"))?;
        let upem = shaper.units_per_em() as f32;
        Ok(Face { pdf, shaper, upem })
    }

    /// The advance of `text` at `size`, shaped as krilla's `draw_text` shapes it.
    fn width(&self, text: &str, size: f32) -> f32 {
        let mut buf = rustybuzz::UnicodeBuffer::new();
        buf.push_str(text);
        buf.guess_segment_properties();
        let out = rustybuzz::shape(&self.shaper, &[], buf);
        let units: i32 = out.glyph_positions().iter().map(|p| p.x_advance).sum();
        units as f32 / self.upem * size
    }

    /// `text` broken into lines no wider than `width`: at spaces, and inside a word only
    /// when the word alone is wider. Newlines start new lines.
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                for ch in word.chars() {
                    line.push(ch);
                    if line.chars().count() > 1 && self.width(&line, size) > width {
                        line.pop();
                        lines.push(std::mem::replace(&mut line, ch.to_string()));
                    }
                }
            }
            lines.push(line);
        }
        lines
    }
}

struct Fonts {
    regular: Face,
    bold: Face,
}

impl Fonts {
    fn load() -> Result<Fonts> {
        Ok(Fonts {
            regular: Face::load(notosans::REGULAR_TTF)?,
            bold: Face::load(notosans::BOLD_TTF)?,
        })
    }

    fn face(&self, bold: bool) -> &Face {
        if bold {
            &self.bold
        } else {
            &self.regular
        }
    }
}

/// One drawing step, placed relative to its block's top left corner.
#[derive(Debug, Clone)]
enum Op {
    /// `y` is the baseline.
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        shade: u8,
        text: String,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
        shade: u8,
        dashed: bool,
    },
    Frame {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
    /// The receipt's signature, scaled into this box with its aspect kept.
    Signature {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
}

/// How a line of text looks.
#[derive(Debug, Clone, Copy)]
struct Style {
    size: f32,
    bold: bool,
    shade: u8,
}

impl Style {
    fn plain(size: f32) -> Style {
        Style {
            size,
            bold: false,
            shade: 0,
        }
    }

    fn bold(size: f32) -> Style {
        Style {
            size,
            bold: true,
            shade: 0,
        }
    }

    /// Labels and notes.
    fn gray(size: f32) -> Style {
        Style {
            size,
            bold: false,
            shade: GRAY,
        }
    }
}

/// A piece of a copy that is never split across pages.
#[derive(Debug, Clone, Default)]
struct Block {
    h: f32,
    ops: Vec<Op>,
    /// Not to end a page (a heading and what follows it).
    keep_with_next: bool,
}

impl Block {
    fn gap(h: f32) -> Block {
        Block {
            h,
            ..Block::default()
        }
    }

    /// A line of text whose line box starts at `top` and is `lh` high.
    fn text(&mut self, x: f32, top: f32, lh: f32, style: Style, text: &str) {
        if !text.is_empty() {
            self.ops.push(Op::Text {
                x,
                y: top + lh / 2.0 + 0.35 * style.size,
                size: style.size,
                bold: style.bold,
                shade: style.shade,
                text: text.to_string(),
            });
        }
    }

    fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32, shade: u8) {
        self.ops.push(Op::Line {
            x1,
            y1: y,
            x2,
            y2: y,
            width,
            shade,
            dashed: false,
        });
    }
}

/// Lays out one copy of a receipt as blocks, for a column `width` wide.
struct Composer<'a> {
    fonts: &'a Fonts,
    l: &'static Labels,
    width: f32,
    size: f32,
    key_columns: usize,
    thermal: bool,
}

impl<'a> Composer<'a> {
    fn new(
        fonts: &'a Fonts,
        l: &'static Labels,
        width: f32,
        size: f32,
        key_columns: usize,
        thermal: bool,
    ) -> Self {
        Composer {
            fonts,
            l,
            width,
            size,
            key_columns,
            thermal,
        }
    }

    fn lh(&self, size: f32) -> f32 {
        size * 1.3
    }

    fn copy(&self, r: &Receipt, f: &Facts, copy_label: Option<&str>) -> Vec<Block> {
        let mut blocks = vec![self.header(r, f, copy_label), Block::gap(self.size * 0.6)];
        blocks.push(self.details(r, f));
        blocks.push(Block::gap(self.size * 0.8));
        blocks.extend(self.keys(r));
        if let Some(terms) = &f.terms {
            blocks.push(Block::gap(self.size * 0.8));
            blocks.extend(self.terms(terms));
        }
        blocks.push(Block::gap(self.size * 1.2));
        blocks.push(self.signatures(r));
        blocks.push(Block::gap(self.size * 0.8));
        blocks.push(self.audit(r));
        blocks
    }

    /// Site, copy label, title with number, the reprint mark, a rule.
    fn header(&self, r: &Receipt, f: &Facts, copy_label: Option<&str>) -> Block {
        let (w, s) = (self.width, self.size);
        let mut b = Block::default();
        let mut y = 0.0;
        let site_size = s * 1.4;
        let label_w = copy_label.map_or(0.0, |c| self.fonts.regular.width(c, s) + s);
        if let Some(c) = copy_label {
            let x = w - self.fonts.regular.width(c, s);
            b.text(x, 0.0, self.lh(site_size), Style::gray(s), c);
        }
        for line in self.fonts.bold.wrap(&r.site_name, site_size, w - label_w) {
            b.text(0.0, y, self.lh(site_size), Style::bold(site_size), &line);
            y += self.lh(site_size);
        }
        let title_size = s * 1.2;
        let title = format!("{} {} {}", f.title, self.l.number, r.number);
        let title_w = self.fonts.bold.width(&title, title_size);
        for line in self.fonts.bold.wrap(&title, title_size, w) {
            b.text(0.0, y, self.lh(title_size), Style::bold(title_size), &line);
            y += self.lh(title_size);
        }
        if r.printed > 0 {
            let mark_w = self.fonts.bold.width(self.l.reprint, title_size);
            if !self.thermal && title_w + mark_w + s * 2.0 <= w {
                let top = y - self.lh(title_size);
                b.text(
                    w - mark_w,
                    top,
                    self.lh(title_size),
                    Style::bold(title_size),
                    self.l.reprint,
                );
            } else {
                b.text(
                    0.0,
                    y,
                    self.lh(title_size),
                    Style::bold(title_size),
                    self.l.reprint,
                );
                y += self.lh(title_size);
            }
        }
        y += s * 0.3;
        b.rule(0.0, w, y, 0.8, 0);
        b.h = y + 0.8;
        b
    }

    /// Label: value pairs; on A4 in two columns (the person; the handover).
    fn details(&self, r: &Receipt, f: &Facts) -> Block {
        let l = self.l;
        let mut person: Vec<(&str, String, bool)> = Vec::new();
        let name = r
            .person
            .as_ref()
            .map_or("—".into(), |p| p.full_name.clone());
        person.push((l.person, name, true));
        if let Some(p) = &r.person {
            if let Some(code) = p.code.as_ref().filter(|c| !c.is_empty()) {
                person.push((l.code, code.clone(), false));
            }
            if let Some(d) = p.department.as_ref().filter(|d| !d.is_empty()) {
                person.push((l.department, d.clone(), false));
            }
        }
        let mut handover = vec![(l.at, f.at.clone(), false)];
        if let Some(due) = &f.due {
            handover.push((l.due, due.clone(), true));
        }
        handover.push((f.by_label, r.user.clone(), false));
        if let Some(set) = &r.set_name {
            handover.push((l.set, set.clone(), false));
        }
        let columns = if self.thermal {
            handover.splice(1..1, person);
            vec![handover]
        } else {
            vec![person, handover]
        };

        let (s, lh) = (self.size, self.lh(self.size));
        let gap = s * 1.5;
        let n = columns.len() as f32;
        let col_w = (self.width - gap * (n - 1.0)) / n;
        let mut b = Block::default();
        for (i, col) in columns.iter().enumerate() {
            let x0 = i as f32 * (col_w + gap);
            let label_w = col
                .iter()
                .map(|(label, _, _)| self.fonts.regular.width(&format!("{label}:"), s * 0.9))
                .fold(0.0, f32::max)
                .min(col_w * 0.45)
                + s * 0.6;
            let mut y = 0.0;
            for (label, value, bold) in col {
                b.text(x0, y, lh, Style::gray(s * 0.9), &format!("{label}:"));
                for line in self.fonts.face(*bold).wrap(value, s, col_w - label_w) {
                    b.text(
                        x0 + label_w,
                        y,
                        lh,
                        Style {
                            size: s,
                            bold: *bold,
                            shade: 0,
                        },
                        &line,
                    );
                    y += lh;
                }
            }
            b.h = b.h.max(y);
        }
        b
    }

    /// The keys' heading, then one block per row of the table (column by column when
    /// there are several side by side).
    fn keys(&self, r: &Receipt) -> Vec<Block> {
        let l = self.l;
        let (s, lh) = (self.size, self.lh(self.size));
        let small = s * 0.85;
        let cols = self.key_columns.max(1);
        let gap = s * 2.0;
        let sub_w = (self.width - gap * (cols as f32 - 1.0)) / cols as f32;
        let widest = r
            .keys
            .iter()
            .map(|k| self.fonts.bold.width(&k.number, s))
            .fold(self.fonts.regular.width(l.col_number, small), f32::max);
        let num_w = (widest + s).clamp(sub_w * 0.12, sub_w * 0.3);
        let (room_w, loc_w) = if self.thermal {
            (sub_w - num_w, 0.0)
        } else {
            let room_w = (sub_w - num_w) * 0.55;
            (room_w, sub_w - num_w - room_w)
        };

        let mut head = Block {
            keep_with_next: true,
            ..Block::default()
        };
        let heading = format!("{} ({})", l.keys, r.keys.len());
        head.text(0.0, 0.0, lh, Style::bold(s), &heading);
        let mut y = lh;
        for c in 0..cols.min(r.keys.len().max(1)) {
            let x0 = c as f32 * (sub_w + gap);
            head.text(x0, y, lh, Style::gray(small), l.col_number);
            head.text(x0 + num_w, y, lh, Style::gray(small), l.col_room);
            if !self.thermal {
                let x = x0 + num_w + room_w;
                head.text(x, y, lh, Style::gray(small), l.col_location);
            }
        }
        y += lh;
        head.rule(0.0, self.width, y, 0.5, 0);
        head.h = y + 0.5;
        let mut blocks = vec![head];

        let rows = r.keys.len().div_ceil(cols);
        for row in 0..rows {
            let mut b = Block::default();
            let mut lines_max = 1usize;
            for c in 0..cols {
                let Some(k) = r.keys.get(c * rows + row) else {
                    continue;
                };
                let x0 = c as f32 * (sub_w + gap);
                let room = k.name.clone().unwrap_or_default();
                let loc = k.location.clone().unwrap_or_default();
                let pad = s * 0.5;
                let num = self.fonts.bold.wrap(&k.number, s, num_w - pad);
                let room_lines = self.fonts.regular.wrap(&room, s, room_w - pad);
                // On the roll the location goes under the room: too narrow for a third column.
                let (loc_x, loc_w, loc_style, loc_from) = if self.thermal {
                    (x0 + num_w, room_w, Style::gray(small), room_lines.len())
                } else {
                    (x0 + num_w + room_w, loc_w, Style::plain(s), 0)
                };
                let loc_lines = if loc.is_empty() {
                    Vec::new()
                } else {
                    self.fonts.regular.wrap(&loc, loc_style.size, loc_w - pad)
                };
                let mut put = |x: f32, lines: &[String], style: Style, from: usize| {
                    for (i, line) in lines.iter().enumerate() {
                        b.text(x, (from + i) as f32 * lh, lh, style, line);
                    }
                    lines_max = lines_max.max(from + lines.len());
                };
                put(x0, &num, Style::bold(s), 0);
                put(x0 + num_w, &room_lines, Style::plain(s), 0);
                put(loc_x, &loc_lines, loc_style, loc_from);
            }
            let h = lines_max as f32 * lh;
            b.rule(0.0, self.width, h, 0.3, LIGHT);
            b.h = h + 0.3;
            blocks.push(b);
        }
        blocks
    }

    fn terms(&self, terms: &str) -> Vec<Block> {
        let size = self.size * 0.85;
        let lh = self.lh(size);
        let mut head = Block {
            h: lh,
            keep_with_next: true,
            ..Block::default()
        };
        head.text(0.0, 0.0, lh, Style::bold(size), self.l.terms);
        let mut blocks = vec![head];
        for line in self.fonts.regular.wrap(terms, size, self.width) {
            let mut b = Block {
                h: lh,
                ..Block::default()
            };
            b.text(0.0, 0.0, lh, Style::plain(size), &line);
            blocks.push(b);
        }
        blocks
    }

    /// The holder's signature as drawn (or "not signed"), and a line for the office's.
    fn signatures(&self, r: &Receipt) -> Block {
        let (w, s) = (self.width, self.size);
        let small = s * 0.85;
        let lh = self.lh(small);
        let mut b = Block::default();
        let (box_w, box_h) = if self.thermal {
            (w, s * 7.0)
        } else {
            (w * 0.46, s * 5.5)
        };
        b.ops.push(Op::Frame {
            x: 0.0,
            y: 0.0,
            w: box_w,
            h: box_h,
        });
        if r.signature.is_some() {
            let pad = s * 0.4;
            b.ops.push(Op::Signature {
                x: pad,
                y: pad,
                w: box_w - 2.0 * pad,
                h: box_h - 2.0 * pad,
            });
        } else {
            let tw = self.fonts.regular.width(self.l.not_signed, s);
            let top = (box_h - self.lh(s)) / 2.0;
            b.text(
                (box_w - tw) / 2.0,
                top,
                self.lh(s),
                Style::gray(s),
                self.l.not_signed,
            );
        }
        b.text(0.0, box_h, lh, Style::gray(small), self.l.holder_signature);
        let (x, line_y) = if self.thermal {
            (0.0, box_h + lh + s * 4.0)
        } else {
            (w - box_w, box_h)
        };
        b.rule(x, x + box_w, line_y, 0.5, 0);
        b.text(x, line_y, lh, Style::gray(small), self.l.staff_signature);
        b.h = line_y + lh;
        b
    }

    /// The audit chain hash in full, on one line (smaller if it must be), and how to check it.
    fn audit(&self, r: &Receipt) -> Block {
        let small = self.size * 0.8;
        let lh = self.lh(small);
        let hash = if r.audit_hash.is_empty() {
            "—"
        } else {
            r.audit_hash.as_str()
        };
        let at_one = self.fonts.regular.width(hash, 1.0).max(0.01);
        let hash_size = small.min(self.width / at_one * 0.99).max(4.0);
        let mut b = Block::default();
        let mut y = 0.0;
        b.text(
            0.0,
            y,
            lh,
            Style::gray(small),
            &format!("{}:", self.l.audit_hash),
        );
        y += lh;
        for line in self.fonts.regular.wrap(hash, hash_size, self.width) {
            b.text(0.0, y, lh, Style::plain(hash_size), &line);
            y += lh;
        }
        b.text(0.0, y, lh, Style::gray(small), self.l.audit_check);
        b.h = y + lh;
        b
    }
}

/// Blocks placed on one page: (x, y) of each block's top left corner.
struct Page {
    w: f32,
    h: f32,
    placed: Vec<(f32, f32, Block)>,
}

impl Page {
    fn new(w: f32, h: f32) -> Page {
        Page {
            w,
            h,
            placed: Vec::new(),
        }
    }

    fn stack(&mut self, x: f32, mut y: f32, blocks: Vec<Block>) {
        for b in blocks {
            let h = b.h;
            self.placed.push((x, y, b));
            y += h;
        }
    }
}

/// A4: both copies on one page, shrinking the text (and putting the keys in two columns)
/// as far as stays readable; past that, each copy over whole pages of its own.
fn a4_pages(fonts: &Fonts, l: &'static Labels, r: &Receipt, f: &Facts) -> Vec<Page> {
    let width = A4_W - 2.0 * A4_MARGIN;
    let half = A4_H / 2.0;
    let (top, bottom) = (8.0 * MM, 7.0 * MM);
    for (cols, scale) in [(1, 1.0), (2, 1.0), (2, 0.9), (2, 0.8), (2, 0.72)] {
        if cols > 1 && r.keys.len() < 4 {
            continue;
        }
        let c = Composer::new(fonts, l, width, A4_SIZE * scale, cols, false);
        let holder = c.copy(r, f, Some(l.holder_copy));
        if holder.iter().map(|b| b.h).sum::<f32>() > half - top - bottom {
            continue;
        }
        let office = c.copy(r, f, Some(l.office_copy));
        let mut page = Page::new(A4_W, A4_H);
        page.stack(A4_MARGIN, top, holder);
        page.stack(A4_MARGIN, half + top, office);
        page.placed.push((0.0, half, cut_line(fonts, l)));
        return vec![page];
    }

    // One column of keys: side-by-side columns would read out of order across pages.
    let c = Composer::new(fonts, l, width, A4_SIZE * 0.9, 1, false);
    let mut pages = Vec::new();
    for label in [l.holder_copy, l.office_copy] {
        let cont = format!(
            "{} · {} {} {} · {} · {}",
            r.site_name, f.title, l.number, r.number, label, l.continued
        );
        pages.extend(flow(&c, c.copy(r, f, Some(label)), &cont));
    }
    pages
}

/// A dashed line across the page at y = 0, and where to cut.
fn cut_line(fonts: &Fonts, l: &Labels) -> Block {
    let size = 7.0;
    let mut b = Block::default();
    let tw = fonts.regular.width(l.cut_here, size);
    let x_text = A4_W - A4_MARGIN - tw;
    b.ops.push(Op::Line {
        x1: 6.0 * MM,
        y1: 0.0,
        x2: x_text - 4.0,
        y2: 0.0,
        width: 0.6,
        shade: GRAY,
        dashed: true,
    });
    b.ops.push(Op::Line {
        x1: A4_W - A4_MARGIN + 2.0,
        y1: 0.0,
        x2: A4_W - 6.0 * MM,
        y2: 0.0,
        width: 0.6,
        shade: GRAY,
        dashed: true,
    });
    b.text(
        x_text,
        -size * 0.65,
        size * 1.3,
        Style::gray(size),
        l.cut_here,
    );
    b
}

/// Blocks over as many A4 pages as they need; every page after the first starts by
/// saying whose receipt it continues.
fn flow(c: &Composer, blocks: Vec<Block>, cont: &str) -> Vec<Page> {
    let (top, bottom) = (A4_MARGIN, A4_H - A4_MARGIN);
    let mut pages = vec![Page::new(A4_W, A4_H)];
    let mut y = top;
    let mut fresh = true;
    for (i, b) in blocks.iter().enumerate() {
        let next = if b.keep_with_next {
            blocks.get(i + 1).map_or(0.0, |n| n.h)
        } else {
            0.0
        };
        if !fresh && y + b.h + next > bottom {
            let mut page = Page::new(A4_W, A4_H);
            let size = c.size * 0.85;
            let lh = c.lh(size);
            let mut head = Block {
                h: lh * 1.5,
                ..Block::default()
            };
            for line in c.fonts.regular.wrap(cont, size, c.width) {
                head.text(0.0, head.h - lh * 1.5, lh, Style::gray(size), &line);
                head.h += lh;
            }
            y = top + head.h;
            page.placed.push((A4_MARGIN, top, head));
            pages.push(page);
            fresh = true;
        }
        if fresh && b.ops.is_empty() {
            continue;
        }
        if let Some(page) = pages.last_mut() {
            page.placed.push((A4_MARGIN, y, b.clone()));
        }
        y += b.h;
        fresh = false;
    }
    pages
}

fn draw(
    surface: &mut krilla::surface::Surface,
    fonts: &Fonts,
    sig: Option<&Signature>,
    ox: f32,
    oy: f32,
    op: &Op,
) {
    let stroke = |width: f32, shade: u8, dash: Option<StrokeDash>| Stroke {
        paint: luma::Color::new(shade).into(),
        width,
        line_cap: LineCap::Round,
        line_join: LineJoin::Round,
        dash,
        ..Stroke::default()
    };
    match op {
        Op::Text {
            x,
            y,
            size,
            bold,
            shade,
            text,
        } => {
            surface.set_stroke(None);
            surface.set_fill(Some(Fill {
                paint: luma::Color::new(*shade).into(),
                ..Fill::default()
            }));
            surface.draw_text(
                Point::from_xy(ox + x, oy + y),
                fonts.face(*bold).pdf.clone(),
                *size,
                text,
                false,
                TextDirection::Auto,
            );
        }
        Op::Line {
            x1,
            y1,
            x2,
            y2,
            width,
            shade,
            dashed,
        } => {
            let mut pb = PathBuilder::new();
            pb.move_to(ox + x1, oy + y1);
            pb.line_to(ox + x2, oy + y2);
            let dash = dashed.then(|| StrokeDash {
                array: vec![4.0, 3.0],
                offset: 0.0,
            });
            if let Some(path) = pb.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(stroke(*width, *shade, dash)));
                surface.draw_path(&path);
            }
        }
        Op::Frame { x, y, w, h } => {
            let mut pb = PathBuilder::new();
            let (x, y) = (ox + x, oy + y);
            pb.move_to(x, y);
            pb.line_to(x + w, y);
            pb.line_to(x + w, y + h);
            pb.line_to(x, y + h);
            pb.close();
            if let Some(path) = pb.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(stroke(0.5, LIGHT, None)));
                surface.draw_path(&path);
            }
        }
        Op::Signature { x, y, w, h } => {
            let Some(sig) = sig else { return };
            let (vw, vh) = (sig.view_box.width as f32, sig.view_box.height as f32);
            if vw <= 0.0 || vh <= 0.0 {
                return;
            }
            let k = (w / vw).min(h / vh);
            let dx = ox + x + (w - vw * k) / 2.0;
            let dy = oy + y + (h - vh * k) / 2.0;
            let p = |px: f64, py: f64| (dx + px as f32 * k, dy + py as f32 * k);
            let mut pb = PathBuilder::new();
            for seg in sig.paths.iter().flatten() {
                match *seg {
                    Segment::Move(a, b) => {
                        let (a, b) = p(a, b);
                        pb.move_to(a, b);
                    }
                    Segment::Line(a, b) => {
                        let (a, b) = p(a, b);
                        pb.line_to(a, b);
                    }
                    Segment::Cubic(a, b, c, d, e, f) => {
                        let ((a, b), (c, d), (e, f)) = (p(a, b), p(c, d), p(e, f));
                        pb.cubic_to(a, b, c, d, e, f);
                    }
                    Segment::Quad(a, b, c, d) => {
                        let ((a, b), (c, d)) = (p(a, b), p(c, d));
                        pb.quad_to(a, b, c, d);
                    }
                    Segment::Close => pb.close(),
                }
            }
            if let Some(path) = pb.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(stroke(1.1, 0, None)));
                surface.draw_path(&path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::process::Command;

    use chrono::FixedOffset;

    use super::*;
    use crate::receipts::{ReceiptKey, ReceiptPerson};

    const HASH: &str = "3f9a0c1d2e4b5a6978877665544332211000ffeeddccbbaa9988776655443322";
    const LATVIAN: &str = "āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ";

    fn key(number: &str, room: &str, location: &str) -> ReceiptKey {
        ReceiptKey {
            number: number.into(),
            name: Some(room.into()),
            location: Some(location.into()),
            key_log_id: 1,
        }
    }

    /// 2026-12-06 14:05 UTC, 16:05 in Riga's winter time.
    fn receipt(printed: i64, signature: Option<String>) -> Receipt {
        Receipt {
            number: 1042,
            kind: "issue".into(),
            at: 1_796_565_900,
            person: Some(ReceiptPerson {
                id: 7,
                full_name: "Jānis Bērziņš".into(),
                code: Some("JB-0412".into()),
                department: Some("Saimniecības daļa".into()),
            }),
            user: "ilze.ozoliņa".into(),
            due_back_at: Some(1_796_601_600),
            set_name: None,
            keys: vec![
                key("K-101", "Ķīmijas kabinets", "2. stāvs"),
                key("K-102", "Ļoti šaura noliktava", "Pagrabs"),
            ],
            site_name: "Rīgas Ģimnāzija".into(),
            terms_lv: Some(format!(
                "Atslēgu turētājs apņemas atslēgas nenodot citām personām un atdot tās līdz norādītajam laikam; \
                 nozaudēšanas gadījumā nekavējoties ziņot birojam. Burti: {LATVIAN}."
            )),
            terms_en: Some("The holder keeps the keys to themselves and brings them back on time.".into()),
            signed: signature.is_some(),
            signature,
            printed,
            audit_hash: HASH.into(),
        }
    }

    fn riga() -> FixedOffset {
        FixedOffset::east_opt(2 * 3600).expect("offset")
    }

    /// The text an independent reader finds, spaces collapsed; pages end with a form feed.
    fn pdftotext(pdf: &[u8]) -> String {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(pdf).expect("write the PDF");
        let out = Command::new("pdftotext")
            .args(["-layout"])
            .arg(file.path())
            .arg("-")
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "pdftotext is needed to read the receipts back ({e}): install poppler-utils \
                     (`apt-get install poppler-utils`; scripts/deps.sh does it for the tests)"
                )
            });
        assert!(
            out.status.success(),
            "pdftotext failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("UTF-8 from pdftotext");
        text.split('\n')
            .map(|l| {
                l.split(' ')
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The decoded content streams (those that draw text), for their operators.
    fn content_streams(pdf: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = pdf;
        while let Some(at) = find(rest, b"stream\n") {
            rest = &rest[at + 7..];
            let Some(end) = find(rest, b"endstream") else {
                break;
            };
            let mut decoded = Vec::new();
            if flate2::read::ZlibDecoder::new(&rest[..end])
                .read_to_end(&mut decoded)
                .is_ok()
            {
                let text = String::from_utf8_lossy(&decoded).into_owned();
                if text.contains("BT") && text.contains("ET") {
                    out.push(text);
                }
            }
            rest = &rest[end + b"endstream".len()..];
        }
        out
    }

    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).position(|w| w == needle)
    }

    /// The text as one line, for what may wrap.
    fn flat(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn pages(text: &str) -> usize {
        text.matches('\u{c}').count()
    }

    #[test]
    fn wrapping_keeps_every_word_within_the_width_and_breaks_only_a_word_too_long() {
        let fonts = Fonts::load().expect("fonts");
        let text = format!(
            "Ļoti šaura noliktava {} pie ķīmijas kabineta\nJauna rinda",
            "Ž".repeat(40)
        );
        let lines = fonts.regular.wrap(&text, 9.0, 100.0);
        assert!(lines.len() > 4, "{lines:?}");
        for line in &lines {
            assert!(
                fonts.regular.width(line, 9.0) <= 100.0,
                "{line} is too wide"
            );
        }
        assert_eq!(lines.last().map(String::as_str), Some("Jauna rinda"));
        assert_eq!(
            lines.concat().replace(' ', ""),
            text.replace([' ', '\n'], "")
        );
        assert_eq!(fonts.regular.wrap("", 9.0, 100.0), vec![String::new()]);
    }

    #[test]
    fn both_faces_are_embedded_as_subsets_with_their_unicode_maps() {
        let pdf =
            render(&receipt(0, None), Lang::Lv, Layout::A4TwoCopies, &riga()).expect("render");
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(&pdf).expect("write the PDF");
        let out = Command::new("pdffonts")
            .arg(file.path())
            .output()
            .expect("pdffonts (poppler-utils) reads the fonts: install poppler-utils");
        let listing = String::from_utf8_lossy(&out.stdout);
        let faces: Vec<&str> = listing
            .lines()
            .filter(|l| l.contains("+NotoSans"))
            .collect();
        assert_eq!(faces.len(), 2, "{listing}");
        for face in faces {
            assert!(
                face.contains("yes yes yes"),
                "embedded, subset, unicode: {face}"
            );
        }
    }

    #[test]
    fn the_font_has_every_latvian_letter_in_both_weights() {
        let fonts = Fonts::load().expect("fonts");
        for face in [&fonts.regular, &fonts.bold] {
            for ch in LATVIAN.chars() {
                assert!(face.shaper.glyph_index(ch).is_some(), "no glyph for {ch}");
            }
        }
    }

    #[test]
    fn a_receipt_reads_back_with_its_latvian_names_keys_number_and_hash_in_every_layout_and_language(
    ) {
        for layout in [Layout::A4TwoCopies, Layout::Thermal80] {
            for lang in [Lang::Lv, Lang::En] {
                let pdf = render(&receipt(0, None), lang, layout, &riga()).expect("render");
                assert!(pdf.starts_with(b"%PDF-"));
                let text = pdftotext(&pdf);
                let copies = if layout == Layout::A4TwoCopies { 2 } else { 1 };
                let ctx = format!("{layout:?} {lang:?}:\n{text}");
                for want in [
                    "Rīgas Ģimnāzija",
                    "Jānis Bērziņš",
                    "JB-0412",
                    "Saimniecības daļa",
                    "K-101",
                    "Ķīmijas kabinets",
                    "2. stāvs",
                    "K-102",
                    "Ļoti šaura noliktava",
                    "ilze.ozoliņa",
                    "06.12.2026 16:05",
                    "07.12.2026 02:00",
                    "atslegas-cli audit verify",
                ] {
                    assert_eq!(text.matches(want).count(), copies, "{want} in {ctx}");
                }
                assert_eq!(text.matches(HASH).count(), copies, "the hash in {ctx}");
                let number = if lang == Lang::Lv {
                    "Nr. 1042"
                } else {
                    "No. 1042"
                };
                assert_eq!(text.matches(number).count(), copies, "{number} in {ctx}");
                let lower = text.to_lowercase();
                assert!(
                    !lower.contains("copy") && !lower.contains("kopija"),
                    "{ctx}"
                );
                assert_eq!(pages(&text), 1, "{ctx}");
                if lang == Lang::Lv {
                    assert!(text.contains("Atslēgu izsniegšanas kvīts"), "{ctx}");
                    assert!(text.contains("nav parakstīts"), "{ctx}");
                    assert!(
                        flat(&text).contains(&format!("Burti: {LATVIAN}")),
                        "terms in {ctx}"
                    );
                } else {
                    assert!(text.contains("Key issue receipt"), "{ctx}");
                    assert!(text.contains("not signed"), "{ctx}");
                    assert!(
                        flat(&text).contains("brings them back on time"),
                        "terms in {ctx}"
                    );
                }
                if layout == Layout::A4TwoCopies {
                    let (holder, office) = match lang {
                        Lang::Lv => ("Turētāja eksemplārs", "Biroja eksemplārs"),
                        Lang::En => ("For the key holder", "For the office"),
                    };
                    let (h, o) = (text.find(holder), text.find(office));
                    assert!(
                        h.is_some() && o.is_some() && h < o,
                        "holder's copy first in {ctx}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_reprint_says_copy_in_both_languages_and_on_both_halves() {
        for (lang, word, copies) in [(Lang::Lv, "KOPIJA", 2), (Lang::En, "COPY", 2)] {
            let text = pdftotext(
                &render(&receipt(1, None), lang, Layout::A4TwoCopies, &riga()).expect("render"),
            );
            assert_eq!(text.matches(word).count(), copies, "{text}");
            let roll = pdftotext(
                &render(&receipt(3, None), lang, Layout::Thermal80, &riga()).expect("render"),
            );
            assert_eq!(roll.matches(word).count(), 1, "{roll}");
        }
    }

    #[test]
    fn the_terms_fall_back_to_the_other_language() {
        let mut r = receipt(0, None);
        r.terms_en = None;
        let text = pdftotext(&render(&r, Lang::En, Layout::Thermal80, &riga()).expect("render"));
        assert!(text.contains("Terms"), "{text}");
        assert!(text.contains("Atslēgu turētājs apņemas"), "{text}");
        r.terms_lv = Some("  ".into());
        let text = pdftotext(&render(&r, Lang::En, Layout::Thermal80, &riga()).expect("render"));
        assert!(!text.contains("Terms"), "blank terms are left out: {text}");
    }

    #[test]
    fn a_signature_is_drawn_as_vector_paths_and_its_absence_is_said() {
        let svg = Signature::parse(
            "<svg viewBox='0 0 600 200'><path d='M10 10 L100 50 Q150 80 200 20'/></svg>",
        )
        .expect("signature")
        .to_svg();
        for layout in [Layout::A4TwoCopies, Layout::Thermal80] {
            let signed =
                render(&receipt(0, Some(svg.clone())), Lang::En, layout, &riga()).expect("render");
            let unsigned = render(&receipt(0, None), Lang::En, layout, &riga()).expect("render");
            // The quadratic stroke is the only curve on the page: PDF draws it as a cubic (c).
            let curves = |pdf: &[u8]| -> usize {
                content_streams(pdf)
                    .iter()
                    .map(|s| s.matches(" c\n").count())
                    .sum()
            };
            let signed_streams = content_streams(&signed).concat();
            assert!(
                signed_streams.contains(" m\n") && signed_streams.contains(" l\n"),
                "{layout:?}"
            );
            assert_eq!(
                curves(&signed),
                if layout == Layout::A4TwoCopies { 2 } else { 1 },
                "{layout:?}"
            );
            assert_eq!(curves(&unsigned), 0, "{layout:?}");
            let text = pdftotext(&signed);
            assert!(!text.contains("not signed"), "{text}");
            assert!(pdftotext(&unsigned).contains("not signed"));
        }
    }

    #[test]
    fn a_set_of_30_keys_fits_both_copies_on_one_a4_page_and_grows_the_roll() {
        let mut r = receipt(0, None);
        r.set_name = Some("Austrumu spārna komplekts".into());
        r.keys = (1..=30)
            .map(|i| {
                key(
                    &format!("K-{i:03}"),
                    &format!("Kabinets {i}"),
                    "Austrumu spārns",
                )
            })
            .collect();
        for lang in [Lang::Lv, Lang::En] {
            let a4 = pdftotext(&render(&r, lang, Layout::A4TwoCopies, &riga()).expect("render"));
            assert_eq!(pages(&a4), 1, "{a4}");
            let roll_pdf = render(&r, lang, Layout::Thermal80, &riga()).expect("render");
            let roll = pdftotext(&roll_pdf);
            assert_eq!(pages(&roll), 1);
            for i in 1..=30 {
                let number = format!("K-{i:03}");
                assert_eq!(a4.matches(&number).count(), 2, "{number} in {a4}");
                assert_eq!(roll.matches(&number).count(), 1, "{number} in {roll}");
            }
            assert!(a4.contains("Austrumu spārna komplekts"));
        }
        let short =
            render(&receipt(0, None), Lang::Lv, Layout::Thermal80, &riga()).expect("render");
        let long = render(&r, Lang::Lv, Layout::Thermal80, &riga()).expect("render");
        assert!(roll_height(&long) > roll_height(&short) + 30.0 * 8.0);
    }

    #[test]
    fn a_set_too_large_for_half_a_page_continues_each_copy_on_pages_of_its_own() {
        let mut r = receipt(0, None);
        r.keys = (1..=150)
            .map(|i| {
                key(
                    &format!("K-{i:03}"),
                    "Ļoti šaura noliktava ar ļoti garu nosaukumu",
                    "Pagrabs",
                )
            })
            .collect();
        let text = pdftotext(&render(&r, Lang::Lv, Layout::A4TwoCopies, &riga()).expect("render"));
        assert!(pages(&text) >= 4, "{}", pages(&text));
        for i in 1..=150 {
            assert_eq!(text.matches(&format!("K-{i:03}")).count(), 2, "K-{i:03}");
        }
        assert!(text.contains("turpinājums"));
        assert_eq!(text.matches(HASH).count(), 2);
    }

    #[test]
    fn a_stored_signature_that_no_longer_reads_is_refused_not_printed_as_unsigned() {
        let r = receipt(0, Some("<svg><script/></svg>".into()));
        let err = render(&r, Lang::En, Layout::Thermal80, &riga()).expect_err("refused");
        assert_eq!(err.code(), "invalid_input");
    }

    #[test]
    fn a_missing_person_code_and_department_leave_their_lines_out() {
        let mut r = receipt(0, None);
        r.kind = "return".into();
        r.person = None;
        r.due_back_at = None;
        let text = pdftotext(&render(&r, Lang::En, Layout::A4TwoCopies, &riga()).expect("render"));
        assert!(text.contains("Key return receipt No. 1042"), "{text}");
        assert!(text.contains("Received by"), "{text}");
        assert!(
            !text.contains("Code:") && !text.contains("Due back"),
            "{text}"
        );
    }

    /// The height of a roll's only page, from its MediaBox.
    fn roll_height(pdf: &[u8]) -> f32 {
        let at = find(pdf, b"/MediaBox [").expect("a MediaBox") + 11;
        let end = at + find(&pdf[at..], b"]").expect("its end");
        let nums: Vec<f32> = String::from_utf8_lossy(&pdf[at..end])
            .split_whitespace()
            .map(|n| n.parse().expect("a number"))
            .collect();
        nums[3] - nums[1]
    }

    /// Not a check: writes the sample receipts to /tmp for a person to look at
    /// (`cargo test -p atslegas-core receipt_pdf -- --ignored`).
    #[test]
    #[ignore]
    fn write_samples_to_tmp() {
        let svg = Signature::parse("<svg viewBox='0 0 600 200'><path d='M10 150 C60 20 120 20 150 120 S260 190 300 60 L420 140 Q500 40 590 90'/></svg>")
            .expect("signature")
            .to_svg();
        let mut big = receipt(1, Some(svg.clone()));
        big.keys = (1..=30)
            .map(|i| {
                key(
                    &format!("K-{i:03}"),
                    &format!("Kabinets {i}"),
                    "Austrumu spārns",
                )
            })
            .collect();
        let mut huge = receipt(0, None);
        huge.keys = (1..=150)
            .map(|i| key(&format!("K-{i:03}"), "Ļoti šaura noliktava", "Pagrabs"))
            .collect();
        for (name, r, lang, layout) in [
            ("a4-lv-150", huge, Lang::Lv, Layout::A4TwoCopies),
            (
                "a4-lv",
                receipt(0, Some(svg.clone())),
                Lang::Lv,
                Layout::A4TwoCopies,
            ),
            ("a4-en-30", big.clone(), Lang::En, Layout::A4TwoCopies),
            (
                "roll-lv",
                receipt(1, Some(svg.clone())),
                Lang::Lv,
                Layout::Thermal80,
            ),
            ("roll-en-30", big, Lang::En, Layout::Thermal80),
        ] {
            let pdf = render(&r, lang, layout, &riga()).expect("render");
            std::fs::write(format!("/tmp/receipt-{name}.pdf"), &pdf).expect("write");
        }
    }
}
