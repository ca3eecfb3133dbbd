//! `atslegas-cli stocktake ...`: counting the key cabinet. Argument parsing and printing
//! only; the work is in `atslegas_core::stocktake`.

use atslegas_core::stocktake::{self, Stocktake};
use atslegas_core::{Actor, Store};
use clap::Subcommand;
use serde_json::Value;

use crate::output::Out;
use crate::Failure;

#[derive(Subcommand)]
pub enum StocktakeCmd {
    /// Open a count (one at a time).
    Start,
    /// Count keys on the hooks: each a key number, as scanned or typed.
    Scan {
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// Finish the open count: the keys missing from their hooks and the unexpected ones
    /// (with --json: missing, unexpected, counted, expected).
    Finish,
    /// A count's report (default: the open one, else the latest).
    Show { id: Option<i64> },
    /// Counts, newest first.
    List,
}

/// A count as `--json` prints it: the report's fields at the top level beside the
/// count's own (`missing`, `unexpected`, `counted`, `expected`).
pub fn flat(s: &Stocktake) -> Value {
    let mut v = serde_json::to_value(s).expect("stocktake serialises");
    if let Some(Value::Object(report)) = v.get_mut("report").map(Value::take) {
        let o = v.as_object_mut().expect("an object");
        o.remove("report");
        o.extend(report);
    }
    v
}

pub fn run(cmd: StocktakeCmd, store: &mut Store, actor: &Actor, out: &Out) -> Result<u8, Failure> {
    match cmd {
        StocktakeCmd::Start => {
            let s = stocktake::start(store, actor)?;
            out.done(&flat(&s), &format!("Stocktake {} started. Scan each key on its hook: atslegas-cli stocktake scan KEY...", s.id));
        }
        StocktakeCmd::Scan { keys } => {
            let texts: Vec<&str> = keys.iter().map(String::as_str).collect();
            out.scans(&stocktake::scan(store, actor, &texts)?);
        }
        StocktakeCmd::Finish => out.stocktake(&stocktake::finish(store, actor)?),
        StocktakeCmd::Show { id } => {
            let s = match id {
                Some(id) => stocktake::get(store.conn(), id)?,
                None => match stocktake::current(store.conn())? {
                    Some(s) => s,
                    None => stocktake::list(store.conn(), 1)?.pop().ok_or_else(|| {
                        atslegas_core::Error::NotFound {
                            what: "stocktake",
                            id: "any".into(),
                        }
                    })?,
                },
            };
            out.stocktake(&s);
        }
        StocktakeCmd::List => out.stocktakes(&stocktake::list(store.conn(), 1000)?),
    }
    Ok(0)
}
