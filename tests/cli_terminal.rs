//! `atslegas-cli` at a real terminal (a pseudo-terminal, as a person at a keyboard has):
//! passwords and passphrases are typed at a prompt and never shown, a new one is typed
//! twice, and two that differ change nothing. From a pipe the CLI reads the first line,
//! as the other test files show.
#![cfg(unix)]

use std::os::fd::AsFd;
use std::process::Command;
use std::time::{Duration, Instant};

use atslegas_tests::{cli_path, Cli, PASSPHRASE_ENV};
use nix::sys::termios::{tcgetattr, LocalFlags};
use rexpect::process::wait::WaitStatus;
use rexpect::session::{spawn_command, PtySession};

const ANNA: &str = "Zils-Ozols-77";
const BOB: &str = "Balts-Sniegs-31";

/// One run of the CLI at a terminal, and all it has shown there.
struct Terminal {
    pty: PtySession,
    shown: String,
}

impl Terminal {
    /// Starts `atslegas-cli --data-dir DIR ARGS` at a terminal that echoes what is typed,
    /// as a person's terminal does (rexpect turns echo off for its own use; `stty echo`
    /// turns it back on before the CLI starts).
    fn start(cli: &Cli, args: &[&str]) -> Terminal {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg("stty echo && exec \"$0\" \"$@\"")
            .arg(cli_path())
            .arg("--data-dir")
            .arg(cli.data_dir())
            .args(args)
            .env("USER", "tester")
            .env_remove("ATSLEGAS_DATA_DIR")
            .env_remove("ATSLEGAS_PASSWORD")
            .env_remove(PASSPHRASE_ENV);
        let pty = spawn_command(c, Some(30_000)).expect("start atslegas-cli at a terminal");
        Terminal {
            pty,
            shown: String::new(),
        }
    }

    /// Waits for `prompt`, then for the terminal to stop echoing (the CLI turns echo off
    /// after printing its prompt), then types `secret` and Enter.
    fn type_unseen(&mut self, prompt: &str, secret: &str) {
        let before = self
            .pty
            .exp_string(prompt)
            .unwrap_or_else(|e| panic!("no prompt {prompt:?} ({e}); shown: {:?}", self.shown));
        self.shown.push_str(&before);
        self.shown.push_str(prompt);
        let master = self.pty.process.get_file_handle().expect("the terminal");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let flags = tcgetattr(master.as_fd()).expect("the terminal's settings");
            if !flags.local_flags.contains(LocalFlags::ECHO) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the terminal still shows what is typed at {prompt:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        self.pty.send_line(secret).expect("type at the terminal");
    }

    /// Waits for the CLI to end; its exit code and everything it showed.
    fn finish(mut self) -> (i32, String) {
        let rest = self.pty.exp_eof().expect("atslegas-cli ends");
        self.shown.push_str(&rest);
        match self.pty.process.wait().expect("its exit status") {
            WaitStatus::Exited(_, code) => (code, self.shown),
            other => panic!(
                "atslegas-cli did not exit: {other:?}; shown: {}",
                self.shown
            ),
        }
    }
}

/// Asserts that none of `secrets` was shown.
fn assert_unseen(shown: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !shown.contains(s),
            "{s:?} was shown at the terminal: {shown:?}"
        );
    }
}

fn with_anna() -> Cli {
    let cli = Cli::initialised();
    cli.add_user("anna", "operator", ANNA);
    cli
}

/// `--as USER` from a pipe, with `password` on standard input: its exit code.
fn signs_in_with(cli: &Cli, user: &str, password: &str) -> Option<i32> {
    cli.run_stdin(&["--as", user, "person", "list"], &format!("{password}\n"))
        .status
        .code()
}

#[test]
fn the_as_password_is_typed_at_a_prompt_and_not_shown() {
    let cli = with_anna();
    let mut t = Terminal::start(&cli, &["--as", "anna", "person", "list"]);
    t.type_unseen("Password of anna: ", ANNA);
    let (code, shown) = t.finish();
    assert_eq!(code, 0, "signed in and listed: {shown}");
    assert_unseen(&shown, &[ANNA]);

    // A wrong one is the sign-in's one answer, and is not shown either.
    let mut t = Terminal::start(&cli, &["--as", "anna", "person", "list"]);
    t.type_unseen("Password of anna: ", "Nepareizs-Vards-1");
    let (code, shown) = t.finish();
    assert_eq!(code, 4, "{shown}");
    assert_unseen(&shown, &["Nepareizs-Vards-1"]);
}

#[test]
fn a_new_password_is_typed_twice_unseen_and_two_that_differ_change_nothing() {
    let cli = Cli::initialised();
    let add = ["user", "add", "bob", "--role", "viewer", "--password-stdin"];

    let mut t = Terminal::start(&cli, &add);
    t.type_unseen("New password of bob: ", BOB);
    t.type_unseen("New password of bob, once more: ", "Balts-Sniegs-32");
    let (code, shown) = t.finish();
    assert_eq!(code, 2, "{shown}");
    assert!(
        shown.contains("the two passwords typed differ, so nothing was changed"),
        "{shown}"
    );
    assert_unseen(&shown, &[BOB, "Balts-Sniegs-32"]);
    let users = cli.json(&["user", "list"]);
    assert!(
        !users.to_string().contains("\"bob\""),
        "bob was added: {users}"
    );

    let mut t = Terminal::start(&cli, &add);
    t.type_unseen("New password of bob: ", BOB);
    t.type_unseen("New password of bob, once more: ", BOB);
    let (code, shown) = t.finish();
    assert_eq!(code, 0, "{shown}");
    assert_unseen(&shown, &[BOB]);
    assert_eq!(signs_in_with(&cli, "bob", BOB), Some(0));
}

#[test]
fn at_a_terminal_a_user_sets_their_own_password_typing_the_current_one_first() {
    // From a pipe this needs ATSLEGAS_PASSWORD (standard input holds the new password);
    // at a terminal both are typed.
    let cli = with_anna();
    let new = "Zala-Liepa-58";
    let mut t = Terminal::start(
        &cli,
        &["--as", "anna", "user", "passwd", "anna", "--password-stdin"],
    );
    t.type_unseen("Password of anna: ", ANNA);
    t.type_unseen("New password of anna: ", new);
    t.type_unseen("New password of anna, once more: ", new);
    let (code, shown) = t.finish();
    assert_eq!(code, 0, "{shown}");
    assert_unseen(&shown, &[ANNA, new]);
    assert_eq!(signs_in_with(&cli, "anna", new), Some(0));
    assert_eq!(signs_in_with(&cli, "anna", ANNA), Some(4));
}

#[test]
fn a_backup_passphrase_is_chosen_twice_unseen_and_typed_unseen_to_verify() {
    let cli = Cli::initialised();
    let dest = tempfile::tempdir().unwrap();
    let dest_s = dest.path().to_str().unwrap();
    let passphrase = "Kalnu-Upe-Sniegs-Vejs-2026";

    let mut t = Terminal::start(
        &cli,
        &[
            "backup",
            "create",
            "--to",
            dest_s,
            "--encrypt",
            "--passphrase-stdin",
        ],
    );
    t.type_unseen("Backup passphrase: ", passphrase);
    t.type_unseen("Backup passphrase, once more: ", passphrase);
    let (code, shown) = t.finish();
    assert_eq!(code, 0, "{shown}");
    assert_unseen(&shown, &[passphrase]);

    let zip = std::fs::read_dir(dest.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "zip"))
        .expect("the backup is on the destination");
    let zip_s = zip.to_str().unwrap();
    let mut t = Terminal::start(&cli, &["backup", "verify", zip_s, "--passphrase-stdin"]);
    t.type_unseen("Backup passphrase: ", passphrase);
    let (code, shown) = t.finish();
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("is intact"), "{shown}");
    assert_unseen(&shown, &[passphrase]);
}

#[test]
fn at_a_terminal_setup_and_a_new_user_ask_for_the_password_without_the_stdin_flag() {
    // From a pipe the flag is needed (a script that forgot it is told, not left waiting);
    // a person at a terminal is simply asked.
    let cli = Cli::new();
    let out = cli.run(&["init"]);
    assert_eq!(out.status.code(), Some(2), "from a pipe: a usage error");

    let root = "Sarkans-Tilts-Upe-9";
    let mut t = Terminal::start(&cli, &["init"]);
    t.type_unseen("New password of root: ", root);
    t.type_unseen("New password of root, once more: ", root);
    let (code, shown) = t.finish();
    assert_eq!(code, 0, "{shown}");
    assert_unseen(&shown, &[root]);
    assert_eq!(signs_in_with(&cli, "root", root), Some(0));

    let mut t = Terminal::start(&cli, &["user", "add", "bob", "--role", "viewer"]);
    t.type_unseen("New password of bob: ", BOB);
    t.type_unseen("New password of bob, once more: ", BOB);
    let (code, shown) = t.finish();
    assert_eq!(code, 0, "{shown}");
    assert_eq!(signs_in_with(&cli, "bob", BOB), Some(0));
}
