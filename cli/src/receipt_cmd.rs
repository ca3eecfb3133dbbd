//! `atslegas-cli receipt ...`: the receipts of handovers, shown or saved as PDF.
//! Argument parsing and printing only; the work is in `atslegas_core::receipts` and
//! `atslegas_core::receipt_pdf`.

use std::path::PathBuf;

use atslegas_core::receipt_pdf::{self, Lang, Layout};
use atslegas_core::{receipts, Actor, Store};
use clap::{Subcommand, ValueEnum};
use serde_json::json;

use crate::output::Out;
use crate::Failure;

#[derive(Subcommand)]
pub enum ReceiptCmd {
    /// Show a receipt (with --json: every field, `signed` true or false).
    Show { number: i64 },
    /// Save a receipt as PDF (counted as a print: every print after the first says "copy").
    Pdf {
        number: i64,
        #[arg(long, value_name = "FILE.pdf")]
        out: PathBuf,
        /// a4: the holder's and the office's copy on one A4 page; 80mm: a thermal roll.
        #[arg(long, value_enum, default_value_t = Paper::A4)]
        layout: Paper,
        /// The labels' language (default: the window's, from config.json).
        #[arg(long, value_enum)]
        lang: Option<Language>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Paper {
    A4,
    #[value(name = "80mm")]
    Thermal,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Language {
    Lv,
    En,
}

pub fn run(
    cmd: ReceiptCmd,
    store: &mut Store,
    actor: &Actor,
    ui_language: &str,
    out: &Out,
) -> Result<u8, Failure> {
    match cmd {
        ReceiptCmd::Show { number } => out.receipt(&receipts::get(store.conn(), number)?),
        ReceiptCmd::Pdf {
            number,
            out: file,
            layout,
            lang,
        } => {
            let lang = match lang {
                Some(Language::En) => Lang::En,
                Some(Language::Lv) => Lang::Lv,
                None if ui_language == "en" => Lang::En,
                None => Lang::Lv,
            };
            let layout = match layout {
                Paper::A4 => Layout::A4TwoCopies,
                Paper::Thermal => Layout::Thermal80,
            };
            let r = receipt_pdf::save(store, actor, number, &file, lang, layout)?;
            out.done(
                &json!({"receipt": r.number, "file": file, "copy": r.printed > 0}),
                &format!(
                    "Receipt {} saved to {}{}.",
                    r.number,
                    file.display(),
                    if r.printed > 0 { " (a copy)" } else { "" }
                ),
            );
        }
    }
    Ok(0)
}
