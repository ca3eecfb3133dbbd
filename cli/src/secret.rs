//! Secrets a person types: passwords and backup passphrases.
//!
//! From a pipe or a file, a secret is the first line of standard input, so scripts keep
//! working (`printf '%s\n' "$PW" | atslegas-cli ...`). At a terminal it is typed after a
//! prompt and **not shown**, and a new one is typed twice, as `passwd` does.
//!
//! `rpassword` reads without echo: it switches the terminal's echo off and back on
//! (termios on Unix, the console mode on Windows). That is platform code we would
//! otherwise write with `unsafe`, which the workspace forbids; the crate is small, has no
//! dependencies beyond the OS bindings and is what most Rust command-line tools use.

use std::io::{BufRead, IsTerminal};

use crate::{usage, Failure};

/// Whether a person is at the keyboard: standard input is a terminal.
pub fn at_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// A secret that exists (a sign-in, a backup's passphrase) or one being chosen (typed
/// twice at a terminal).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    Existing,
    New,
}

/// Reads one secret. `label` starts the prompt ("Password of anna"), `noun` names it in
/// errors ("password"). `None`: standard input was empty (a script gave nothing).
pub fn read(label: &str, noun: &str, kind: Secret) -> Result<Option<String>, Failure> {
    if at_terminal() {
        let first = typed(&format!("{label}: "), noun)?;
        if kind == Secret::New {
            let again = typed(&format!("{label}, once more: "), noun)?;
            if again != first {
                return Err(usage(format!(
                    "the two {noun}s typed differ, so nothing was changed; type the same {noun} twice"
                )));
            }
        }
        return Ok(Some(first));
    }
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        usage(format!(
            "could not read the {noun} from standard input: {e}"
        ))
    })?;
    if read == 0 {
        return Ok(None);
    }
    Ok(Some(first_line(&line).to_string()))
}

/// Typed at the terminal without echo.
fn typed(prompt: &str, noun: &str) -> Result<String, Failure> {
    rpassword::prompt_password(prompt)
        .map_err(|e| usage(format!("could not read the {noun} from the terminal: {e}")))
}

/// A line without its line ending (`\n` or `\r\n`).
fn first_line(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::first_line;

    #[test]
    fn a_line_loses_its_ending_and_nothing_else() {
        assert_eq!(first_line("pw\n"), "pw");
        assert_eq!(first_line("pw\r\n"), "pw");
        assert_eq!(first_line(" pw \n"), " pw ");
        assert_eq!(first_line("pw"), "pw");
    }
}
