//! Control numbers (ISA13, GS06) of real-time answers. Receivers check ISA13 for duplicates
//! (TA1 note 025) and GS06 likewise, so each answer needs numbers no other answer carries:
//! not another request's in the same second, not one from before a restart, not another
//! instance's. They come from the store's named counters (`sequences`), the same ones the batch
//! workers number their acknowledgements and results from, taken in blocks so that a real-time
//! request costs no database round trip. Numbers of a block still unused when the process
//! stops are skipped, never reused.
//!
//! The next block is reserved in the background once the current one is half used. A
//! reservation is a write, so it waits behind the audit writer's commit: about 3 ms under
//! load, during which every real-time request used to wait for numbers (8% of the time at
//! 30,000 answers a second, BENCHMARKS.md eleventh pass). Requests now wait only when numbers
//! run out faster than a reservation completes, or when one failed.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::store::{Store, StoreError};
use crate::x12::writer::control_number;

/// Numbers taken from each counter at once.
const BLOCK: i64 = 1_000;

/// Hands out (ISA13, GS06) pairs; cheap to clone (clones share the blocks).
#[derive(Debug, Clone)]
pub struct ControlNumbers {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    block_size: i64,
    blocks: Mutex<Blocks>,
    /// Held while reserving, so that requests that ran out and the background reservation do
    /// not each take a block.
    reserving: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct Blocks {
    current: Block,
    /// Reserved ahead, used when `current` runs out.
    next: Option<Block>,
    /// A background reservation is under way.
    prefetching: bool,
}

/// The next unused values of the two counters, and how many of them are left.
#[derive(Debug, Default, Clone, Copy)]
struct Block {
    isa13: i64,
    gs06: i64,
    left: i64,
}

impl Default for ControlNumbers {
    fn default() -> Self {
        Self::with_block_size(BLOCK)
    }
}

impl ControlNumbers {
    /// Numbers reserved `block_size` at a time (at least 2, so that "half used" comes before
    /// "used up").
    pub fn with_block_size(block_size: i64) -> Self {
        Self {
            shared: Arc::new(Shared {
                block_size: block_size.max(2),
                blocks: Mutex::default(),
                reserving: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// (ISA13, GS06) for one answer.
    pub async fn next(&self, store: &Store) -> Result<(u32, u32), StoreError> {
        loop {
            if let Some(numbers) = self.take(store) {
                return Ok(numbers);
            }
            // None left and none reserved ahead: wait for a reservation, ours or the one under
            // way. A caller that goes away mid-way costs at most a skipped block.
            let _one = self.shared.reserving.lock().await;
            if self.shared.lock().has_numbers() {
                continue;
            }
            let block = reserve(store, self.shared.block_size).await?;
            self.shared.lock().install(block);
        }
    }

    /// Takes numbers if there are any; starts reserving the next block once the current one is
    /// half used.
    fn take(&self, store: &Store) -> Option<(u32, u32)> {
        let mut blocks = self.shared.lock();
        if blocks.current.left == 0 {
            blocks.current = blocks.next.take()?;
        }
        let numbers = blocks.current.take()?;
        if blocks.current.left <= self.shared.block_size / 2
            && blocks.next.is_none()
            && !blocks.prefetching
        {
            blocks.prefetching = true;
            let (shared, store) = (Arc::clone(&self.shared), store.clone());
            tokio::spawn(async move { shared.prefetch(&store).await });
        }
        Some(numbers)
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Blocks> {
        // Nothing panics while holding it; a poisoned lock still holds consistent numbers.
        self.blocks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn prefetch(&self, store: &Store) {
        let result = {
            let _one = self.reserving.lock().await;
            reserve(store, self.block_size).await
        };
        let mut blocks = self.lock();
        blocks.prefetching = false;
        match result {
            Ok(block) => blocks.install(block),
            // The next request past half a block tries again; requests wait only once the
            // current block is used up.
            Err(e) => tracing::warn!(error = %e, "reserving control numbers ahead failed"),
        }
    }
}

impl Blocks {
    fn has_numbers(&self) -> bool {
        self.current.left > 0 || self.next.is_some()
    }

    fn install(&mut self, block: Block) {
        if self.current.left == 0 {
            self.current = block;
        } else if self.next.is_none() {
            self.next = Some(block);
        }
        // Else two reservations met (a request that ran out and the background one): the
        // later block's numbers are skipped, as a restart skips them.
    }
}

impl Block {
    fn take(&mut self) -> Option<(u32, u32)> {
        if self.left == 0 {
            return None;
        }
        let numbers = (control_number(self.isa13), control_number(self.gs06));
        self.isa13 += 1;
        self.gs06 += 1;
        self.left -= 1;
        Some(numbers)
    }
}

async fn reserve(store: &Store, count: i64) -> Result<Block, StoreError> {
    let isa13 = store.reserve_sequence("isa13", count).await?;
    let gs06 = store.reserve_sequence("gs06", count).await?;
    Ok(Block {
        isa13,
        gs06,
        left: count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("control.db").display());
        let store = Store::open(&url).await.unwrap();
        (dir, store)
    }

    /// Waits (bounded) until no background reservation is under way.
    async fn settled(numbers: &ControlNumbers) {
        for _ in 0..1_000 {
            if !numbers.shared.lock().prefetching {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        panic!("the background reservation did not finish");
    }

    #[tokio::test]
    async fn the_next_block_is_reserved_before_the_current_one_runs_out() {
        let (_dir, store) = store().await;
        let numbers = ControlNumbers::with_block_size(10);
        let mut seen = Vec::new();
        for _ in 0..5 {
            seen.push(numbers.next(&store).await.unwrap());
        }
        settled(&numbers).await;
        // Half of the first block used: the second is reserved already, so the counters
        // stand past both blocks.
        assert!(numbers.shared.lock().next.is_some());
        assert_eq!(store.reserve_sequence("isa13", 1).await.unwrap(), 21);
        assert_eq!(store.reserve_sequence("gs06", 1).await.unwrap(), 21);
        for _ in 0..15 {
            seen.push(numbers.next(&store).await.unwrap());
        }
        let expected: Vec<(u32, u32)> = (1..=20).map(|n| (n, n)).collect();
        assert_eq!(seen, expected);
        // The third block was reserved ahead too, after the numbers taken above.
        settled(&numbers).await;
        assert_eq!(numbers.next(&store).await.unwrap(), (22, 22));
    }

    #[tokio::test]
    async fn concurrent_requests_never_share_numbers() {
        let (_dir, store) = store().await;
        let numbers = ControlNumbers::with_block_size(4);
        let takers = (0..50).map(|_| {
            let (numbers, store) = (numbers.clone(), store.clone());
            tokio::spawn(async move { numbers.next(&store).await.unwrap() })
        });
        let mut isa13 = std::collections::HashSet::new();
        let mut gs06 = std::collections::HashSet::new();
        for taker in takers {
            let (a, b) = taker.await.unwrap();
            assert!(isa13.insert(a) && gs06.insert(b), "{a} {b} given twice");
        }
        assert_eq!(isa13.len(), 50);
    }

    #[tokio::test]
    async fn an_unreachable_store_gives_an_error_once_the_numbers_run_out() {
        let (_dir, store) = store().await;
        let numbers = ControlNumbers::with_block_size(2);
        assert_eq!(numbers.next(&store).await.unwrap(), (1, 1));
        settled(&numbers).await;
        store.close().await;
        // The block reserved ahead is still good; after it, nothing is.
        assert_eq!(numbers.next(&store).await.unwrap(), (2, 2));
        assert_eq!(numbers.next(&store).await.unwrap(), (3, 3));
        assert_eq!(numbers.next(&store).await.unwrap(), (4, 4));
        settled(&numbers).await;
        assert!(numbers.next(&store).await.is_err());
    }
}
