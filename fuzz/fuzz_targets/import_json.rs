#![no_main]
//! See atslegas_fuzz::import (JSON inputs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| atslegas_fuzz::import(data, true));
