#![no_main]
//! See atslegas_fuzz::archive_reader.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| atslegas_fuzz::archive_reader(data));
