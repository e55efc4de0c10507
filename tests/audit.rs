//! The audit log (CORE 270 §4.3.4), on SQLite and PostgreSQL: one suite, both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use hts_gateway::core::Wire;
use hts_gateway::core::validate::sha1_hex;
use hts_gateway::store::Store;
use hts_gateway::store::audit::AuditRecord;
use hts_gateway::x12::tree::control_numbers;
use time::OffsetDateTime;

/// A time with whole microseconds (what the store keeps), `micros` after a fixed instant.
fn at(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(1_781_524_800_000_000_000 + i128::from(micros) * 1000)
        .unwrap()
}

/// A complete, answered real-time 270 exchange: every column filled.
fn answered(
    correlation_id: &str,
    payload_id: &str,
    organization: &str,
    micros: i64,
) -> AuditRecord {
    let request = common::fixture("270_jane_doe.x12");
    let response = common::fixture("271_active_with_pcp.x12");
    let req = control_numbers(request.as_bytes());
    let resp = control_numbers(response.as_bytes());
    AuditRecord {
        correlation_id: correlation_id.to_owned(),
        received_at: at(micros),
        answered_at: Some(at(micros + 12_345)),
        operation: Some("RealTimeTransaction".into()),
        wire: Some(Wire::Mtom),
        organization: Some(organization.to_owned()),
        user_name: Some("clinic-user".to_owned()),
        sender_id: Some("110048577A".to_owned()),
        receiver_id: Some("DEMOPLAN".to_owned()),
        payload_id: Some(payload_id.to_owned()),
        payload_type: Some("X12_270_Request_005010X279A1".to_owned()),
        response_payload_type: Some("X12_271_Response_005010X279A1".into()),
        request_bytes: request.len() as u64,
        response_bytes: Some(response.len() as u64),
        http_status: Some(200),
        error_code: Some("Success".into()),
        isa13: req.isa13.map(String::from),
        gs06: req.gs06.map(String::from),
        st02: req.st02.map(String::from),
        response_isa13: resp.isa13.map(String::from),
        test_mode: req.test,
        request_sha1: Some(sha1_hex(request.as_bytes())),
        response_sha1: Some(sha1_hex(response.as_bytes())),
    }
}

/// A request refused before its envelope could be read: almost everything unknown.
fn refused(correlation_id: &str, micros: i64) -> AuditRecord {
    AuditRecord {
        correlation_id: correlation_id.to_owned(),
        received_at: at(micros),
        answered_at: None,
        operation: None,
        wire: None,
        organization: None,
        user_name: None,
        sender_id: None,
        receiver_id: None,
        payload_id: None,
        payload_type: None,
        response_payload_type: None,
        request_bytes: 0,
        response_bytes: None,
        http_status: None,
        error_code: None,
        isa13: None,
        gs06: None,
        st02: None,
        response_isa13: None,
        test_mode: false,
        request_sha1: None,
        response_sha1: None,
    }
}

fn ids(records: &[AuditRecord]) -> Vec<&str> {
    records.iter().map(|r| r.correlation_id.as_str()).collect()
}

on_both_backends!(round_trip, |store: Store| async move {
    let first = answered("c-1", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "Clinic", 0);
    assert_eq!(first.isa13.as_deref(), Some("000000101"));
    assert_eq!(first.gs06.as_deref(), Some("101"));
    assert_eq!(first.st02.as_deref(), Some("0001"));
    assert!(first.test_mode);
    assert!(first.response_isa13.is_some());
    let mut second = refused("c-2", 1);
    // A partly known exchange: NULLs beside values.
    second.payload_id = Some("f81d4fae-7dec-11d0-a765-00a0c91e6bf6".to_owned());
    second.wire = Some(Wire::Soap);
    second.http_status = Some(400);
    second.error_code = Some("PayloadIDRequired".into());
    second.request_bytes = u64::from(u32::MAX) + 7; // beyond 32 bits: BIGINT
    store.record_message(&first).await.unwrap();
    store.record_message(&second).await.unwrap();

    let found = store
        .messages_by_payload_id("f81d4fae-7dec-11d0-a765-00a0c91e6bf6")
        .await
        .unwrap();
    assert_eq!(found, vec![first.clone(), second.clone()]);
    assert!(
        store
            .messages_by_payload_id("no-such-payload")
            .await
            .unwrap()
            .is_empty()
    );

    let nothing = refused("c-3", 2);
    store.record_message(&nothing).await.unwrap();
    let all = store.recent_messages(None, 10).await.unwrap();
    assert_eq!(all, vec![nothing, second, first]);
});

on_both_backends!(recent_order_and_filter, |store: Store| async move {
    // Inserted out of time order; two share a received time (then later insert is newer).
    for r in [
        answered("b-2", "p2", "Beta", 20),
        answered("a-1", "p1", "Alpha", 10),
        answered("a-3", "p3", "Alpha", 30),
        answered("a-3bis", "p3", "Alpha", 30),
        answered("b-4", "p4", "Beta", 40),
        refused("anon", 50),
    ] {
        store.record_message(&r).await.unwrap();
    }
    let all = store.recent_messages(None, 100).await.unwrap();
    assert_eq!(ids(&all), ["anon", "b-4", "a-3bis", "a-3", "b-2", "a-1"]);
    let top = store.recent_messages(None, 2).await.unwrap();
    assert_eq!(ids(&top), ["anon", "b-4"]);
    assert!(store.recent_messages(None, 0).await.unwrap().is_empty());

    let alpha = store.recent_messages(Some("Alpha"), 100).await.unwrap();
    assert_eq!(ids(&alpha), ["a-3bis", "a-3", "a-1"]);
    let beta = store.recent_messages(Some("Beta"), 1).await.unwrap();
    assert_eq!(ids(&beta), ["b-4"]);
    assert!(
        store
            .recent_messages(Some("Gamma"), 100)
            .await
            .unwrap()
            .is_empty()
    );

    let p3 = store.messages_by_payload_id("p3").await.unwrap();
    assert_eq!(ids(&p3), ["a-3", "a-3bis"]);
});

on_both_backends!(correlation_id_is_unique, |store: Store| async move {
    let r = answered("same", "p1", "Clinic", 0);
    store.record_message(&r).await.unwrap();
    let again = answered("same", "p2", "Other", 5);
    let e = store.record_message(&again).await.unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    // The first record is untouched and the second not stored.
    assert_eq!(store.messages_by_payload_id("p1").await.unwrap(), vec![r]);
    assert!(store.messages_by_payload_id("p2").await.unwrap().is_empty());
});

on_both_backends!(large_batches_all_or_nothing, |store: Store| async move {
    // More rows than one INSERT takes, mixing full and sparse records.
    let batch: Vec<AuditRecord> = (0..75)
        .map(|i| {
            if i % 3 == 0 {
                refused(&format!("b-{i}"), i)
            } else if i % 3 == 1 {
                answered(&format!("b-{i}"), &format!("p-{i}"), "Clinic", i)
            } else {
                // Text that needs escaping on its way to the database.
                let mut r = answered(&format!("b-{i}"), "p \"q\" \\ é\n\t\u{1}", "Ö", i);
                // … in a column SQLite packs into its JSON `detail` too.
                r.user_name = Some("u \"q\" \\ é\n\t\u{1}\u{7f} 😀".to_owned());
                r.http_status = Some(500);
                r.response_bytes = None;
                r.test_mode = false;
                r
            }
        })
        .collect();
    store.record_messages(&batch).await.unwrap();
    let mut back = store.recent_messages(None, 1000).await.unwrap();
    back.reverse();
    assert_eq!(back, batch);
    store.record_messages(&[]).await.unwrap();

    // One refused row (a duplicate correlation ID in the last statement) refuses the batch.
    let mut again: Vec<AuditRecord> = (100..140)
        .map(|i| answered(&format!("b-{i}"), "p-again", "Clinic", i))
        .collect();
    again.push(answered("b-1", "p-again", "Clinic", 200));
    assert!(store.record_messages(&again).await.is_err());
    assert!(
        store
            .messages_by_payload_id("p-again")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.recent_messages(None, 1000).await.unwrap().len(), 75);
});

on_both_backends!(
    batch_sizes_around_statement_size,
    |store: Store| async move {
        // SQLite writes up to 512 rows per statement (padded to a power of two), more in one
        // transaction of several: every size around those bounds keeps every record, in order.
        let mut n = 0;
        let mut written = Vec::new();
        for size in [1, 2, 3, 63, 64, 65, 255, 256, 257, 511, 512, 513, 1100] {
            let batch: Vec<AuditRecord> = (n..n + size)
                .map(|i| {
                    if i % 5 == 0 {
                        refused(&format!("s-{i}"), i)
                    } else {
                        answered(&format!("s-{i}"), &format!("p-{i}"), "Clinic", i)
                    }
                })
                .collect();
            n += size;
            store.record_messages(&batch).await.unwrap();
            written.extend(batch);
        }
        let mut back = store.recent_messages(None, 10_000).await.unwrap();
        back.reverse();
        assert_eq!(back, written);
    }
);

on_both_backends!(
    duplicate_in_any_statement_refuses_batch,
    |store: Store| async move {
        store
            .record_message(&answered("old", "p-old", "Clinic", 0))
            .await
            .unwrap();
        let batch = |tag: &str| -> Vec<AuditRecord> {
            // More than one SQLite statement's 512 rows.
            (1..=600)
                .map(|i| answered(&format!("{tag}-{i}"), "p-new", "Clinic", i))
                .collect()
        };
        // A duplicate of a stored row in the first statement, of a row in an earlier statement of
        // the same batch, and within one statement: nothing of the batch is kept.
        let mut first = batch("a");
        first[3].correlation_id = "old".to_owned();
        let mut across = batch("b");
        across[560].correlation_id = across[2].correlation_id.clone();
        let mut within = batch("c")[..10].to_vec();
        within[9].correlation_id = within[0].correlation_id.clone();
        for b in [first, across, within] {
            let e = store.record_messages(&b).await.unwrap_err();
            assert!(!e.is_retryable(), "{e}");
            assert!(
                store
                    .messages_by_payload_id("p-new")
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
        assert_eq!(store.recent_messages(None, 1000).await.unwrap().len(), 1);
        // The store still takes a good batch afterwards (no transaction left open).
        store.record_messages(&batch("d")).await.unwrap();
        assert_eq!(store.recent_messages(None, 1000).await.unwrap().len(), 601);
    }
);
