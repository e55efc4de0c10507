//! What the plan's operators do with batch files: publish files for partners and find them
//! again (CLI), partner settings, the queue, and retention (which keeps what a partner has not
//! picked up for the minimum window, and purges the rest in bounded batches).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use hts_gateway::auth::HashedPassword;
use hts_gateway::store::Store;
use hts_gateway::worker::retention::{Retention, purge_all};
use time::OffsetDateTime;

fn hts(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hts-gateway"))
        .args(args)
        .env("HTS_DATABASE_URL", url)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

on_both_backends_with_url!(
    publish_search_and_settings,
    |url: String, store: Store| async move {
        let hash = HashedPassword::new("a long enough password").unwrap();
        store
            .add_organization("Riverside Clinic", "rita", &hash)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let remit = dir.path().join("remit.835");
        std::fs::write(&remit, "ISA*00*remittance advice~").unwrap();
        let report = dir.path().join("directory.csv");
        std::fs::write(&report, "provider,name\n1,Clinic\n").unwrap();

        let url2 = url.clone();
        let run = move |args: Vec<String>| {
            let url = url2.clone();
            tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                hts(&url, &args)
            })
        };
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (ok, out, err) = run(s(&[
            "admin",
            "publish",
            "--partner",
            "Riverside Clinic",
            "--type",
            "835",
            "--provider",
            "2200000001",
            remit.to_str().unwrap(),
        ]))
        .await
        .unwrap();
        assert!(ok, "{err}");
        assert!(out.contains("published 2200000001835.WEB."), "{out}");
        let (ok, _, err) = run(s(&[
            "admin",
            "publish",
            "--partner",
            "Riverside Clinic",
            "--type",
            "PROVDIR",
            "--provider",
            "2200000001",
            report.to_str().unwrap(),
        ]))
        .await
        .unwrap();
        assert!(ok, "{err}");
        // An unknown partner is refused, nothing published.
        let (ok, _, err) = run(s(&[
            "admin",
            "publish",
            "--partner",
            "Nobody",
            "--type",
            "835",
            "--provider",
            "2200000001",
            remit.to_str().unwrap(),
        ]))
        .await
        .unwrap();
        assert!(!ok && err.contains("no partner"), "{err}");

        // The search: all, by type, by a date range with nothing in it.
        let (ok, out, _) = run(s(&["admin", "files", "--partner", "Riverside Clinic"]))
            .await
            .unwrap();
        assert!(ok);
        assert_eq!(out.lines().count(), 3, "header and two files: {out}");
        let (_, out, _) = run(s(&[
            "admin",
            "files",
            "--partner",
            "Riverside Clinic",
            "--type",
            "835",
        ]))
        .await
        .unwrap();
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(
            out.contains("835") && out.contains(" - "),
            "never downloaded: {out}"
        );
        let (_, out, _) = run(s(&[
            "admin",
            "files",
            "--partner",
            "Riverside Clinic",
            "--from",
            "2001-01-01",
            "--to",
            "2001-12-31",
        ]))
        .await
        .unwrap();
        assert_eq!(out.lines().count(), 1, "{out}");
        // Another partner's search shows none of them.
        let (_, out, _) = run(s(&["admin", "files", "--partner", "Someone Else"]))
            .await
            .unwrap();
        assert_eq!(out.lines().count(), 1, "{out}");

        // Settings: shown, changed, shown again.
        let (ok, out, _) = run(s(&["admin", "settings", "Riverside Clinic"]))
            .await
            .unwrap();
        assert!(
            ok && out.contains("ack policy always, certification required"),
            "{out}"
        );
        let (ok, out, _) = run(s(&[
            "admin",
            "settings",
            "Riverside Clinic",
            "--ack-policy",
            "negative-only",
            "--require-certification",
            "false",
        ]))
        .await
        .unwrap();
        assert!(
            ok && out.contains("negative_only, certification not required"),
            "{out}"
        );
        let settings = store.partner_settings("Riverside Clinic").await.unwrap();
        assert!(!settings.require_certification);

        let (ok, out, _) = run(s(&["admin", "queue"])).await.unwrap();
        assert!(ok && out.is_empty(), "nothing queued: {out}");
    }
);

// The store's named counters number the plan's interchanges: blocks (real-time control
// numbers) and single values (the batch workers') never overlap, also when taken at once.
on_both_backends!(sequences_hand_out_blocks, |store: Store| async move {
    assert_eq!(store.reserve_sequence("t", 10).await.unwrap(), 1);
    assert_eq!(store.next_sequence("t").await.unwrap(), 11);
    assert_eq!(store.reserve_sequence("t", 1000).await.unwrap(), 12);
    assert_eq!(store.next_sequence("t").await.unwrap(), 1012);
    let takers = (0..8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            if i % 2 == 0 {
                let first = store.reserve_sequence("t", 100).await.unwrap();
                (first..first + 100).collect::<Vec<_>>()
            } else {
                vec![store.next_sequence("t").await.unwrap()]
            }
        })
    });
    let mut all = Vec::new();
    for t in futures_util::future::join_all(takers).await {
        all.extend(t.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, (1013..1013 + 404).collect::<Vec<_>>());
});

on_both_backends!(
    retention_keeps_what_was_not_picked_up,
    |store: Store| async move {
        let hash = HashedPassword::new("a long enough password").unwrap();
        store
            .add_organization("Riverside Clinic", "rita", &hash)
            .await
            .unwrap();
        let publish = |body: &'static [u8]| {
            let store = store.clone();
            async move {
                let blob = store.put_blob_bytes(body).await.unwrap();
                store
                    .publish_file(
                        "Riverside Clinic",
                        "2200000001",
                        "835",
                        "X12_835",
                        "WEB",
                        &blob,
                    )
                    .await
                    .unwrap()
            }
        };
        let picked = publish(b"picked up").await;
        let unpicked = publish(b"never picked up").await;
        store.mark_downloaded(picked.id).await.unwrap();
        // A blob nobody refers to (a crash between writing it and its row).
        let orphan = store.put_blob_bytes(b"orphan").await.unwrap();

        let r = Retention {
            keep: Duration::from_secs(7 * 86_400),
            keep_unpicked: Duration::from_secs(31 * 86_400),
            batch: 1,
            ..Retention::default()
        };
        let now = OffsetDateTime::now_utc();
        // Nothing is old yet.
        let p = purge_all(&store, &r, now).await.unwrap();
        assert_eq!(p.files, 0);
        // Ten days on: the picked-up file and the orphan go; the other waits for its window.
        let p = purge_all(&store, &r, now + Duration::from_secs(10 * 86_400))
            .await
            .unwrap();
        assert_eq!((p.files, p.blobs), (1, 2), "{p:?}");
        let left = |id: &str| {
            let store = store.clone();
            let id = id.to_string();
            async move {
                store
                    .file_by_payload_id("Riverside Clinic", &id)
                    .await
                    .unwrap()
            }
        };
        assert!(left(&picked.payload_id).await.is_none());
        assert!(left(&unpicked.payload_id).await.is_some());
        assert!(store.blob_info(orphan.id).await.unwrap().is_none());
        // Forty days on: the unpicked file's window is over too.
        let p = purge_all(&store, &r, now + Duration::from_secs(40 * 86_400))
            .await
            .unwrap();
        assert_eq!((p.files, p.blobs), (1, 1), "{p:?}");
        assert!(left(&unpicked.payload_id).await.is_none());
    }
);
