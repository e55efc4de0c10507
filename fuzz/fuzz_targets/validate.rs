//! Arbitrary bytes into the X12 engine: no panic, no hang, our acknowledgements validate,
//! streaming and in-memory validation agree. Seeds: corpus/validate/.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hts_gateway_fuzz::exercise(data);
});
