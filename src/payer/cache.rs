//! A read-through cache of eligibility data (providers, members, spans) in front of the store.
//!
//! Why: a real-time 271 needs three or four lookups, and each sqlx round trip costs tens of
//! microseconds even on an embedded SQLite (the query runs on the connection's worker thread).
//! Eligibility data changes only when an operator loads a file (or, later, an 834 is applied),
//! and every such change increments the store's plan generation in the same transaction. The
//! cache checks that number at most once per `max_staleness` (default one second) and drops
//! everything when it moved, so an answer is never staler than that, on any instance sharing
//! the database. Claims are not cached: claim status changes all day.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use time::{Date, Month};

use super::PlanData;
use super::model::{Claim, ClaimQuery, Member, MemberQuery, Provider, Span, Spans};
use crate::store::StoreError;

/// How long an answer may lag a change to the data, by default.
pub const DEFAULT_MAX_STALENESS: Duration = Duration::from_secs(1);
/// Cached lookups kept, by default, before the cache starts over (about 1 KB each).
pub const DEFAULT_CAPACITY: usize = 100_000;

#[derive(Debug)]
pub struct CachedPlan<D> {
    inner: D,
    max_staleness: Duration,
    capacity: usize,
    state: Mutex<State>,
    /// Held while the generation is read: lookups that find the cache due meanwhile wait for
    /// that one check instead of each asking the store (at 15,000 requests a second, each
    /// with three or four lookups, the millisecond a check takes saw dozens of them).
    checking: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct State {
    generation: Option<i64>,
    checked: Option<Instant>,
    /// Generation checks finished, successful or not: a lookup that waited for a check knows
    /// by this that one ran meanwhile.
    checks_done: u64,
    /// The last check could not read the generation.
    last_check_failed: bool,
    // Records are shared with the answers (`Arc`): a hit copies nothing.
    providers_by_npi: HashMap<String, Arc<[Provider]>>,
    providers: HashMap<String, Option<Arc<Provider>>>,
    members: Members,
    /// Every span of a member, whatever the dates asked (filtered on the way out).
    spans: HashMap<i64, Arc<[Span]>>,
}

impl State {
    fn len(&self) -> usize {
        self.providers_by_npi.len() + self.providers.len() + self.members.len + self.spans.len()
    }

    fn clear(&mut self) {
        self.providers_by_npi.clear();
        self.providers.clear();
        self.members = Members::default();
        self.spans.clear();
    }
}

/// Member lookups by kind, keyed so that a borrowed [`MemberQuery`] finds its entry without
/// building an owned key.
#[derive(Debug, Default)]
struct Members {
    by_id: HashMap<String, Arc<[Member]>>,
    by_ssn: HashMap<String, Arc<[Member]>>,
    by_agency_id: HashMap<String, Arc<[Member]>>,
    by_name: HashMap<Date, HashMap<String, Arc<[Member]>>>,
    len: usize,
}

impl Members {
    fn get(&self, query: &MemberQuery<'_>) -> Option<&Arc<[Member]>> {
        match *query {
            MemberQuery::MemberId(id) => self.by_id.get(id),
            MemberQuery::Ssn(ssn) => self.by_ssn.get(ssn),
            MemberQuery::AgencyId(id) => self.by_agency_id.get(id),
            MemberQuery::NameAndBirth {
                name_key,
                birth_date,
            } => self.by_name.get(&birth_date)?.get(name_key),
        }
    }

    fn insert(&mut self, query: &MemberQuery<'_>, found: Arc<[Member]>) {
        let (map, key) = match *query {
            MemberQuery::MemberId(id) => (&mut self.by_id, id),
            MemberQuery::Ssn(ssn) => (&mut self.by_ssn, ssn),
            MemberQuery::AgencyId(id) => (&mut self.by_agency_id, id),
            MemberQuery::NameAndBirth {
                name_key,
                birth_date,
            } => (self.by_name.entry(birth_date).or_default(), name_key),
        };
        if map.insert(key.to_string(), found).is_none() {
            self.len += 1;
        }
    }
}

impl<D: PlanData + Sync> CachedPlan<D> {
    pub fn new(inner: D) -> Self {
        Self::with_limits(inner, DEFAULT_MAX_STALENESS, DEFAULT_CAPACITY)
    }

    pub fn with_limits(inner: D, max_staleness: Duration, capacity: usize) -> Self {
        Self {
            inner,
            max_staleness,
            capacity,
            state: Mutex::new(State::default()),
            checking: tokio::sync::Mutex::new(()),
        }
    }

    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// Drops everything cached (a load in this process calls it; others notice the generation).
    pub fn invalidate(&self) {
        let mut st = self.lock();
        st.clear();
        st.checked = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves only cached copies behind: safe to reuse.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes sure the cache is not older than `max_staleness` relative to the store. One check
    /// at a time: a lookup that finds the cache due while another check runs waits for it and
    /// shares its outcome.
    async fn refresh(&self) -> Result<(), StoreError> {
        let (due, checks_done) = {
            let st = self.lock();
            (self.is_due(&st), st.checks_done)
        };
        if !due {
            return Ok(());
        }
        let _one = self.checking.lock().await;
        {
            let st = self.lock();
            if st.checks_done != checks_done {
                // A check finished while this lookup waited for it: its answer is as fresh as
                // one this lookup would have asked for (even when the check took longer than
                // `max_staleness`, as a check of its own would have).
                return if st.last_check_failed {
                    Err(StoreError::unavailable(
                        "the eligibility data's generation could not be read (see the log)".into(),
                    ))
                } else {
                    Ok(())
                };
            }
        }
        // The check counts from when it was asked: the number read may be as old as that, so
        // counting from the answer would stretch the bound by the query's own time.
        let asked = Instant::now();
        let result = self.inner.generation().await;
        let mut st = self.lock();
        st.checks_done += 1;
        st.last_check_failed = result.is_err();
        let generation = result?;
        if st.generation != Some(generation) {
            st.clear();
            st.generation = Some(generation);
        }
        st.checked = Some(asked);
        Ok(())
    }

    fn is_due(&self, st: &State) -> bool {
        st.checked.is_none_or(|t| t.elapsed() >= self.max_staleness)
    }

    /// Stores `value` unless the generation moved while it was being read.
    fn keep(&self, seen: Option<i64>, put: impl FnOnce(&mut State)) {
        let mut st = self.lock();
        if st.generation != seen {
            return;
        }
        if st.len() >= self.capacity {
            // Simplest bounded policy: start over. Real-time traffic refills the hot part fast.
            st.clear();
        }
        put(&mut st);
    }

    fn generation_seen(&self) -> Option<i64> {
        self.lock().generation
    }
}

impl<D: PlanData + Sync> PlanData for CachedPlan<D> {
    async fn providers_by_npi(&self, npi: &str) -> Result<Arc<[Provider]>, StoreError> {
        self.refresh().await?;
        if let Some(v) = self.lock().providers_by_npi.get(npi) {
            return Ok(v.clone());
        }
        let seen = self.generation_seen();
        let v = self.inner.providers_by_npi(npi).await?;
        self.keep(seen, |st| {
            st.providers_by_npi.insert(npi.to_string(), v.clone());
        });
        Ok(v)
    }

    async fn provider(&self, provider_id: &str) -> Result<Option<Arc<Provider>>, StoreError> {
        self.refresh().await?;
        if let Some(v) = self.lock().providers.get(provider_id) {
            return Ok(v.clone());
        }
        let seen = self.generation_seen();
        let v = self.inner.provider(provider_id).await?;
        self.keep(seen, |st| {
            st.providers.insert(provider_id.to_string(), v.clone());
        });
        Ok(v)
    }

    async fn members(&self, query: &MemberQuery<'_>) -> Result<Arc<[Member]>, StoreError> {
        self.refresh().await?;
        if let Some(v) = self.lock().members.get(query) {
            return Ok(v.clone());
        }
        let seen = self.generation_seen();
        let v = self.inner.members(query).await?;
        self.keep(seen, |st| st.members.insert(query, v.clone()));
        Ok(v)
    }

    async fn spans(&self, member: i64, from: Date, to: Date) -> Result<Spans, StoreError> {
        self.refresh().await?;
        let cached = self.lock().spans.get(&member).cloned();
        let all = match cached {
            Some(all) => all,
            None => {
                let seen = self.generation_seen();
                let (first, last) = (first_day(), last_day());
                let all: Arc<[Span]> = self.inner.spans(member, first, last).await?.to_vec().into();
                self.keep(seen, |st| {
                    st.spans.insert(member, all.clone());
                });
                all
            }
        };
        Ok(Spans::new(all, from, to))
    }

    async fn generation(&self) -> Result<i64, StoreError> {
        self.inner.generation().await
    }

    async fn claims(&self, query: &ClaimQuery) -> Result<Vec<Claim>, StoreError> {
        self.inner.claims(query).await
    }
}

fn first_day() -> Date {
    Date::from_calendar_date(1, Month::January, 1).unwrap_or(Date::MIN)
}

fn last_day() -> Date {
    Date::from_calendar_date(9999, Month::December, 31).unwrap_or(Date::MAX)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;

    /// Plan data whose generation check takes `delay` and counts its calls; providers are
    /// looked up by NPI only, and none exist.
    struct SlowGeneration {
        delay: Duration,
        checks: AtomicI64,
        /// Every check fails (the database is down).
        fail: bool,
    }

    impl SlowGeneration {
        fn new(delay: Duration) -> Self {
            Self {
                delay,
                checks: AtomicI64::new(0),
                fail: false,
            }
        }
    }

    impl PlanData for SlowGeneration {
        async fn providers_by_npi(&self, _npi: &str) -> Result<Arc<[Provider]>, StoreError> {
            Ok(Arc::from(Vec::new()))
        }
        async fn provider(&self, _id: &str) -> Result<Option<Arc<Provider>>, StoreError> {
            Ok(None)
        }
        async fn members(&self, _query: &MemberQuery<'_>) -> Result<Arc<[Member]>, StoreError> {
            Ok(Arc::from(Vec::new()))
        }
        async fn spans(&self, _member: i64, from: Date, to: Date) -> Result<Spans, StoreError> {
            Ok(Spans::new(Arc::from(Vec::new()), from, to))
        }
        async fn generation(&self) -> Result<i64, StoreError> {
            tokio::time::sleep(self.delay).await;
            let n = self.checks.fetch_add(1, Ordering::SeqCst);
            if self.fail {
                return Err(StoreError::unavailable("the test database is down".into()));
            }
            Ok(n)
        }
        async fn claims(&self, _query: &ClaimQuery) -> Result<Vec<Claim>, StoreError> {
            Ok(Vec::new())
        }
    }

    /// `n` lookups of the same provider started together, with their outcomes.
    async fn lookups_together(
        plan: &CachedPlan<SlowGeneration>,
        n: usize,
    ) -> Vec<Result<Arc<[Provider]>, StoreError>> {
        futures_util::future::join_all((0..n).map(|_| plan.providers_by_npi("1234567893"))).await
    }

    #[tokio::test]
    async fn staleness_counts_from_when_the_generation_was_asked() {
        // The check takes longer than the allowed staleness: what it read is already too old
        // by the time it answers, so the next lookup checks again.
        let plan = CachedPlan::with_limits(
            SlowGeneration::new(Duration::from_millis(60)),
            Duration::from_millis(40),
            100,
        );
        plan.providers_by_npi("1234567893").await.unwrap();
        plan.providers_by_npi("1234567893").await.unwrap();
        assert_eq!(plan.inner().checks.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_fresh_check_serves_lookups_without_asking_again() {
        let plan = CachedPlan::with_limits(
            SlowGeneration::new(Duration::ZERO),
            Duration::from_secs(3600),
            100,
        );
        for _ in 0..3 {
            plan.providers_by_npi("1234567893").await.unwrap();
        }
        assert_eq!(plan.inner().checks.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn lookups_that_find_the_cache_due_together_share_one_check() {
        let plan = CachedPlan::with_limits(
            SlowGeneration::new(Duration::from_millis(50)),
            Duration::from_secs(3600),
            100,
        );
        for r in lookups_together(&plan, 20).await {
            r.unwrap();
        }
        assert_eq!(plan.inner().checks.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_check_fails_the_lookups_that_waited_for_it_and_the_next_one_tries_again() {
        let plan = CachedPlan::with_limits(
            SlowGeneration {
                fail: true,
                ..SlowGeneration::new(Duration::from_millis(50))
            },
            Duration::from_secs(3600),
            100,
        );
        let results = lookups_together(&plan, 5).await;
        assert!(
            results
                .iter()
                .all(|r| r.as_ref().is_err_and(StoreError::is_retryable))
        );
        assert_eq!(plan.inner().checks.load(Ordering::SeqCst), 1);
        // Nothing was cached as checked: the next lookup asks again.
        assert!(plan.providers_by_npi("1234567893").await.is_err());
        assert_eq!(plan.inner().checks.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_lookup_that_waited_for_a_slow_check_is_served_by_it() {
        // The check takes longer than the allowed staleness: lookups that waited for it are
        // answered from what it read, not refused and not made to check again one by one.
        let plan = CachedPlan::with_limits(
            SlowGeneration::new(Duration::from_millis(60)),
            Duration::from_millis(40),
            100,
        );
        for r in lookups_together(&plan, 5).await {
            r.unwrap();
        }
        assert_eq!(plan.inner().checks.load(Ordering::SeqCst), 1);
    }
}
