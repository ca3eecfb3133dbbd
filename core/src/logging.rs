//! Where the programs' diagnostics go: `tracing` events to standard error, at the level
//! `config.json` names. Owns nothing else, and never writes into the register's folder.

/// Sends `tracing` events to standard error: none at log level 0, errors at 1, everything
/// from 2 up. `with_time` stamps each line (the window); the CLI leaves it out, as cron
/// and the shell have their own. A second call keeps the first subscriber.
pub fn init(log_level: u8, with_time: bool) {
    let level = match log_level {
        0 => return,
        1 => tracing::Level::ERROR,
        _ => tracing::Level::DEBUG,
    };
    let events = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr);
    let _ = if with_time {
        events.try_init()
    } else {
        events.without_time().try_init()
    };
}
