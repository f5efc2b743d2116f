#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| cellmail_fuzz::mailer(data));
