//! Randomness straight from the operating system: session tokens, secrets, drive ids and
//! work folder names. Never seeded (the demo data's repeatable draws are `demo`'s own).

/// `n` random bytes from the OS, hex-encoded.
pub(crate) fn hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the operating system has no random source");
    hex::encode(buf)
}
