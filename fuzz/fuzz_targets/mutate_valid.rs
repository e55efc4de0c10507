//! The input is an edit script applied to a valid interchange (837P or 271 fixture, built in with
//! include_bytes!), so the fuzzer starts deep in the implementation-guide walker instead of
//! having to discover an ISA first. Same properties as the `validate` target.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let payload = hts_gateway_fuzz::mutate(data);
    hts_gateway_fuzz::exercise(&payload);
});
