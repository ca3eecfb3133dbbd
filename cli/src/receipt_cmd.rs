//! `atslegas-cli receipt ...`: the receipts of handovers, shown or saved as PDF.
//! Argument parsing and printing only; the work is in `atslegas_core::receipts`.

use atslegas_core::{receipts, Actor, Store};
use clap::Subcommand;

use crate::output::Out;
use crate::Failure;

#[derive(Subcommand)]
pub enum ReceiptCmd {
    /// Show a receipt (with --json: every field, `signed` true or false).
    Show { number: i64 },
}

pub fn run(cmd: ReceiptCmd, store: &mut Store, _actor: &Actor, out: &Out) -> Result<u8, Failure> {
    match cmd {
        ReceiptCmd::Show { number } => out.receipt(&receipts::get(store.conn(), number)?),
    }
    Ok(0)
}
