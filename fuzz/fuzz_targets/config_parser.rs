#![no_main]
//! See atslegas_fuzz::config_parser.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| atslegas_fuzz::config_parser(data));
