//! Control numbers (ISA13, GS06) of real-time answers. Receivers check ISA13 for duplicates
//! (TA1 note 025) and GS06 likewise, so each answer needs numbers no other answer carries:
//! not another request's in the same second, not one from before a restart, not another
//! instance's. They come from the store's named counters (`sequences`), the same ones the batch
//! workers number their acknowledgements and results from, taken in blocks so that a real-time
//! request costs a database round trip only once per [`BLOCK`] answers. Numbers of a block
//! still unused when the process stops are skipped, never reused.

use tokio::sync::Mutex;

use crate::store::{Store, StoreError};
use crate::x12::writer::control_number;

/// Numbers taken from each counter at once.
const BLOCK: i64 = 1_000;

#[derive(Debug, Default)]
pub struct ControlNumbers {
    block: Mutex<Block>,
}

/// The next unused values of the two counters, and how many of them are left.
#[derive(Debug, Default)]
struct Block {
    isa13: i64,
    gs06: i64,
    left: i64,
}

impl ControlNumbers {
    /// (ISA13, GS06) for one answer.
    pub async fn next(&self, store: &Store) -> Result<(u32, u32), StoreError> {
        let mut b = self.block.lock().await;
        if b.left == 0 {
            // Reserved while holding the lock: requests arriving meanwhile wait for this block
            // instead of each taking one. A caller that goes away mid-way leaves `left` at 0,
            // so the next one reserves afresh.
            let isa13 = store.reserve_sequence("isa13", BLOCK).await?;
            let gs06 = store.reserve_sequence("gs06", BLOCK).await?;
            *b = Block {
                isa13,
                gs06,
                left: BLOCK,
            };
        }
        let numbers = (control_number(b.isa13), control_number(b.gs06));
        b.isa13 += 1;
        b.gs06 += 1;
        b.left -= 1;
        Ok(numbers)
    }
}
