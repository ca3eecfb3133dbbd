//! `atslegas-cli init`, `status`, `demo` and `bench`: the register as a whole (first-run
//! setup, where it is and what it holds, demo data, the benchmark). Argument parsing and
//! printing only; the work is in `atslegas_core::{users, keylog, demo, bench}`.

use std::path::Path;

use atslegas_core::bench::{self, BenchOptions};
use atslegas_core::config::Paths;
use atslegas_core::demo::{self, DemoOptions};
use atslegas_core::{keylog, users, Actor, Store};
use clap::Args;

use crate::output::{self, Out};
use crate::user_cmd::read_new_password;
use crate::Failure;

#[derive(Args)]
pub struct InitArgs {
    /// Read the root password from standard input (the only way: never an argument; at a
    /// terminal it is typed twice and not shown).
    #[arg(long)]
    pub root_password_stdin: bool,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Key holders, with Latvian and other names.
    #[arg(long, default_value_t = 10_000)]
    persons: u64,
    /// Keys, numbered 1..N.
    #[arg(long, default_value_t = 3_000)]
    keys: u64,
    /// Key-log rows in all (issued, returned, lost).
    #[arg(long, default_value_t = 1_000_000)]
    log_rows: u64,
    /// Years of history, ending now.
    #[arg(long, default_value_t = 5)]
    years: u32,
    /// The same seed gives the same names and pattern of movements.
    #[arg(long, default_value_t = DemoOptions::default().seed)]
    seed: u64,
}

#[derive(Args)]
pub struct BenchArgs {
    /// Calls per figure (issue and return: pairs).
    #[arg(long, default_value_t = 200)]
    iterations: u32,
}

pub fn init(a: InitArgs, store: &mut Store, out: &Out) -> Result<u8, Failure> {
    let InitArgs {
        root_password_stdin,
    } = a;
    let pw = read_new_password(root_password_stdin, "--root-password-stdin", "root")?;
    let root = users::init_root(store, &pw)?;
    out.done(
        &root,
        &format!("Set up. The root user is \"{}\".", root.username),
    );
    Ok(0)
}

pub fn status(store: &Store, paths: &Paths, db: &Path, out: &Out) -> Result<u8, Failure> {
    let s = keylog::summary(store.conn(), store.now())?;
    let v = atslegas_core::db::schema_version(store.conn())?;
    let set_up = users::is_set_up(store.conn())?;
    out.status(paths, db, v, set_up, &s);
    Ok(0)
}

pub fn demo(
    a: DemoArgs,
    store: &mut Store,
    actor: &Actor,
    db: &Path,
    out: &Out,
) -> Result<u8, Failure> {
    let DemoArgs {
        persons,
        keys,
        log_rows,
        years,
        seed,
    } = a;
    let opts = DemoOptions {
        persons,
        keys,
        log_rows,
        years,
        seed,
    };
    let started = std::time::Instant::now();
    let report = demo::generate(store, actor, &opts, &mut output::progress("demo"))?;
    let elapsed = started.elapsed();
    out.demo(&report, elapsed, db);
    Ok(0)
}

pub fn bench(a: BenchArgs, store: &mut Store, actor: &Actor, out: &Out) -> Result<u8, Failure> {
    let BenchArgs { iterations } = a;
    let opts = BenchOptions { iterations };
    let report = bench::run(store, actor, &opts, &mut output::progress("bench"))?;
    out.bench(&report);
    Ok(0)
}
