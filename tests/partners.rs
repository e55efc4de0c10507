//! Trading partners, users and authentication, on SQLite and PostgreSQL: one suite, both
//! backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use hts_gateway::auth::{
    AuthErrorKind, AuthMethod, HashedPassword, LockoutPolicy, PasswordError,
    authenticate_certificate, authenticate_password,
};
use hts_gateway::store::Store;
use hts_gateway::store::partners::{CertificateOwner, PartnerError};

const ORG: &str = "Demo Community Hospital";
const PRIMARY: &str = "HospAdmin";
const CLERK: &str = "clerk1";
const PRIMARY_PW: &str = "primary-password-0001";
const CLERK_PW: &str = "clerk-password-0002";
const FP_ORG: &str = "aa00000000000000000000000000000000000000000000000000000000000001";
const FP_CLERK: &str = "bb00000000000000000000000000000000000000000000000000000000000002";

fn hash(p: &str) -> HashedPassword {
    HashedPassword::new(p).unwrap()
}

/// No waiting between attempts in tests; lockout after 3.
fn policy(lockout: Duration) -> LockoutPolicy {
    LockoutPolicy {
        max_failures: 3,
        lockout,
        delay_per_failure: Duration::from_millis(250),
    }
}

/// One organization with a Primary User and a clerk, each with links.
async fn setup(store: &Store) {
    store
        .add_organization(ORG, PRIMARY, &hash(PRIMARY_PW))
        .await
        .unwrap();
    store.add_user(ORG, CLERK, &hash(CLERK_PW)).await.unwrap();
    assert!(store.add_sender_id(PRIMARY, "DEMOHOSP").await.unwrap());
    assert!(store.add_provider_id(PRIMARY, "110048577A").await.unwrap());
    assert!(store.add_provider_id(PRIMARY, "110048577B").await.unwrap());
    assert!(store.add_sender_id(CLERK, "DEMOHOSP").await.unwrap());
    assert!(store.add_provider_id(CLERK, "110048577A").await.unwrap());
}

async fn kind(store: &Store, user: &str, password: &str, p: &LockoutPolicy) -> AuthErrorKind {
    authenticate_password(store, user, password, p)
        .await
        .expect_err("must fail")
        .kind()
}

on_both_backends!(admin_and_links, |store: Store| async move {
    setup(&store).await;
    // Linking again changes nothing; unlinking what is not linked says so.
    assert!(!store.add_sender_id(CLERK, "DEMOHOSP").await.unwrap());
    assert!(store.add_sender_id(CLERK, "OTHER").await.unwrap());
    assert!(store.remove_sender_id(CLERK, "OTHER").await.unwrap());
    assert!(!store.remove_sender_id(CLERK, "OTHER").await.unwrap());
    assert!(!store.remove_provider_id(CLERK, "110048577B").await.unwrap());

    let orgs = store.organizations().await.unwrap();
    assert_eq!(orgs.len(), 1);
    let org = &orgs[0];
    assert_eq!(org.name, ORG);
    assert!(org.active);
    let names: Vec<_> = org.users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, [PRIMARY, CLERK], "Primary User first");
    assert!(org.users[0].primary && !org.users[1].primary);
    assert_eq!(org.users[0].provider_ids, ["110048577A", "110048577B"]);
    assert_eq!(org.users[1].sender_ids, ["DEMOHOSP"]);

    // Duplicates and unknown names are the operator's mistakes, not store failures.
    let dup = store
        .add_organization(ORG, "someone", &hash(PRIMARY_PW))
        .await;
    assert!(matches!(dup, Err(PartnerError::Duplicate(_))), "{dup:?}");
    let dup = store.add_user(ORG, "CLERK1", &hash(CLERK_PW)).await;
    assert!(matches!(dup, Err(PartnerError::Duplicate(_))), "{dup:?}");
    let missing = store.add_user("No Such Org", "x", &hash(CLERK_PW)).await;
    assert!(
        matches!(missing, Err(PartnerError::NotFound(_))),
        "{missing:?}"
    );
    let missing = store.add_sender_id("nobody", "DEMOHOSP").await;
    assert!(
        matches!(missing, Err(PartnerError::NotFound(_))),
        "{missing:?}"
    );
    let bad = store.add_provider_id(CLERK, "12345").await;
    assert!(matches!(bad, Err(PartnerError::Invalid(_))), "{bad:?}");
    // An organization whose Primary User cannot be added is not added either.
    let taken = store
        .add_organization("Other Org", CLERK, &hash(PRIMARY_PW))
        .await;
    assert!(
        matches!(taken, Err(PartnerError::Duplicate(_))),
        "{taken:?}"
    );
    assert_eq!(store.organizations().await.unwrap().len(), 1);
});

on_both_backends!(password_authentication, |store: Store| async move {
    setup(&store).await;
    let p = policy(Duration::from_secs(900));
    let principal = authenticate_password(&store, CLERK, CLERK_PW, &p)
        .await
        .unwrap();
    assert_eq!(principal.organization, ORG);
    assert_eq!(principal.user, CLERK);
    assert_eq!(principal.sender_ids, ["DEMOHOSP"]);
    assert_eq!(principal.provider_ids, ["110048577A"]);
    assert_eq!(principal.via, AuthMethod::Password);

    // User names ignore case; the principal carries the name as written.
    let principal = authenticate_password(&store, "HOSPADMIN", PRIMARY_PW, &p)
        .await
        .unwrap();
    assert_eq!(principal.user, PRIMARY);
    assert_eq!(principal.provider_ids, ["110048577A", "110048577B"]);

    // Wrong password and unknown user look the same.
    let wrong = authenticate_password(&store, CLERK, "not-the-password", &p)
        .await
        .unwrap_err();
    let unknown = authenticate_password(&store, "nobody", CLERK_PW, &p)
        .await
        .unwrap_err();
    assert_eq!(wrong.kind(), AuthErrorKind::BadCredentials);
    assert_eq!(unknown.kind(), AuthErrorKind::BadCredentials);
    assert!(!wrong.is_locked_out() && !wrong.is_unavailable());
    assert_eq!(wrong.to_string(), unknown.to_string());
    assert!(!wrong.to_string().contains(CLERK));
    assert_eq!(wrong.delay(), Duration::from_millis(250));
    assert_eq!(unknown.delay(), Duration::from_millis(250));
    // The delay grows with consecutive failures.
    let again = authenticate_password(&store, CLERK, "not-the-password", &p)
        .await
        .unwrap_err();
    assert_eq!(again.delay(), Duration::from_millis(500));
    // Success clears the count.
    authenticate_password(&store, CLERK, CLERK_PW, &p)
        .await
        .unwrap();
    let rec = store.user_for_auth(CLERK).await.unwrap().unwrap();
    assert_eq!(rec.failed_count, 0);
    assert!(rec.last_failure.is_some());
});

on_both_backends!(inactive_users, |store: Store| async move {
    setup(&store).await;
    let p = policy(Duration::from_secs(900));
    store.set_user_active(CLERK, false).await.unwrap();
    let e = authenticate_password(&store, CLERK, CLERK_PW, &p)
        .await
        .unwrap_err();
    assert!(e.is_inactive(), "{e}");
    // A wrong password for an inactive user is still just bad credentials.
    assert_eq!(
        kind(&store, CLERK, "not-the-password", &p).await,
        AuthErrorKind::BadCredentials
    );
    store.set_user_active("CLERK1", true).await.unwrap();
    authenticate_password(&store, CLERK, CLERK_PW, &p)
        .await
        .unwrap();
    let missing = store.set_user_active("nobody", false).await;
    assert!(matches!(missing, Err(PartnerError::NotFound(_))));
});

on_both_backends!(lockout, |store: Store| async move {
    setup(&store).await;
    let p = policy(Duration::from_secs(900));
    assert_eq!(
        kind(&store, CLERK, "wrong-1", &p).await,
        AuthErrorKind::BadCredentials
    );
    assert_eq!(
        kind(&store, CLERK, "wrong-2", &p).await,
        AuthErrorKind::BadCredentials
    );
    // The third failure locks.
    let e = authenticate_password(&store, CLERK, "wrong-3", &p)
        .await
        .unwrap_err();
    assert!(e.is_locked_out());
    assert_eq!(e.delay(), Duration::from_secs(2));
    // Refused even with the right password, and further attempts do not extend the lock.
    let until = store
        .user_for_auth(CLERK)
        .await
        .unwrap()
        .unwrap()
        .locked_until
        .unwrap();
    assert!(until > time::OffsetDateTime::now_utc() + time::Duration::minutes(14));
    assert!(
        authenticate_password(&store, CLERK, CLERK_PW, &p)
            .await
            .unwrap_err()
            .is_locked_out()
    );
    assert_eq!(
        kind(&store, CLERK, "wrong-4", &p).await,
        AuthErrorKind::LockedOut
    );
    let rec = store.user_for_auth(CLERK).await.unwrap().unwrap();
    assert_eq!(rec.locked_until, Some(until));
    // Other users are unaffected.
    authenticate_password(&store, PRIMARY, PRIMARY_PW, &p)
        .await
        .unwrap();
    // An operator's password reset clears the lock.
    store
        .set_password(CLERK, &hash("a-brand-new-password"))
        .await
        .unwrap();
    let rec = store.user_for_auth(CLERK).await.unwrap().unwrap();
    assert_eq!((rec.failed_count, rec.locked_until), (0, None));
    assert_eq!(
        kind(&store, CLERK, CLERK_PW, &p).await,
        AuthErrorKind::BadCredentials
    );
    authenticate_password(&store, CLERK, "a-brand-new-password", &p)
        .await
        .unwrap();
});

on_both_backends!(lockout_expires, |store: Store| async move {
    setup(&store).await;
    let p = policy(Duration::from_millis(300));
    for _ in 0..3 {
        authenticate_password(&store, CLERK, "wrong", &p)
            .await
            .unwrap_err();
    }
    assert_eq!(
        kind(&store, CLERK, CLERK_PW, &p).await,
        AuthErrorKind::LockedOut
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    // After the lock, a failure starts a fresh count rather than locking again at once.
    assert_eq!(
        kind(&store, CLERK, "wrong", &p).await,
        AuthErrorKind::BadCredentials
    );
    let rec = store.user_for_auth(CLERK).await.unwrap().unwrap();
    assert_eq!((rec.failed_count, rec.locked_until), (1, None));
    authenticate_password(&store, CLERK, CLERK_PW, &p)
        .await
        .unwrap();
    let rec = store.user_for_auth(CLERK).await.unwrap().unwrap();
    assert_eq!(rec.failed_count, 0);

    // A zero lockout never refuses the right password.
    let zero = policy(Duration::ZERO);
    for _ in 0..4 {
        authenticate_password(&store, CLERK, "wrong", &zero)
            .await
            .unwrap_err();
    }
    authenticate_password(&store, CLERK, CLERK_PW, &zero)
        .await
        .unwrap();
});

on_both_backends!(concurrent_failures_all_count, |store: Store| async move {
    setup(&store).await;
    let p = LockoutPolicy {
        max_failures: 100,
        ..policy(Duration::from_secs(900))
    };
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                authenticate_password(&store, CLERK, "wrong", &p)
                    .await
                    .unwrap_err()
            })
        })
        .collect();
    for a in attempts {
        a.await.unwrap();
    }
    let rec = store.user_for_auth(CLERK).await.unwrap().unwrap();
    assert_eq!(rec.failed_count, 8);
});

on_both_backends!(certificates, |store: Store| async move {
    setup(&store).await;
    store
        .add_certificate(
            &CertificateOwner::Organization(ORG.to_owned()),
            &FP_ORG.to_uppercase(),
            "CN=demo hospital",
        )
        .await
        .unwrap();
    store
        .add_certificate(
            &CertificateOwner::User("CLERK1".to_owned()),
            FP_CLERK,
            "CN=clerk",
        )
        .await
        .unwrap();

    // An organization's certificate acts as its Primary User.
    let p = authenticate_certificate(&store, FP_ORG).await.unwrap();
    assert_eq!((p.organization.as_str(), p.user.as_str()), (ORG, PRIMARY));
    assert_eq!(p.provider_ids, ["110048577A", "110048577B"]);
    assert_eq!(p.via, AuthMethod::ClientCertificate);
    // A user's certificate acts as that user; colons and upper case are accepted.
    let colons: Vec<String> = FP_CLERK
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8(c.to_vec()).unwrap().to_uppercase())
        .collect();
    let p = authenticate_certificate(&store, &colons.join(":"))
        .await
        .unwrap();
    assert_eq!(p.user, CLERK);
    assert_eq!(p.provider_ids, ["110048577A"]);

    let unknown = authenticate_certificate(&store, &"cc".repeat(32))
        .await
        .unwrap_err();
    assert!(unknown.is_bad_credentials());
    assert!(
        authenticate_certificate(&store, "not hex")
            .await
            .unwrap_err()
            .is_bad_credentials()
    );

    let list = store.certificates().await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].fingerprint, FP_ORG);
    assert_eq!(list[0].user, None);
    assert_eq!(list[1].user.as_deref(), Some(CLERK));

    // Deactivated certificates, and certificates of inactive users, are refused.
    store.deactivate_certificate(FP_ORG).await.unwrap();
    assert!(
        authenticate_certificate(&store, FP_ORG)
            .await
            .unwrap_err()
            .is_inactive()
    );
    store.set_user_active(CLERK, false).await.unwrap();
    assert!(
        authenticate_certificate(&store, FP_CLERK)
            .await
            .unwrap_err()
            .is_inactive()
    );
    let dup = store
        .add_certificate(&CertificateOwner::User(PRIMARY.to_owned()), FP_CLERK, "")
        .await;
    assert!(matches!(dup, Err(PartnerError::Duplicate(_))), "{dup:?}");
    let missing = store.deactivate_certificate(&"dd".repeat(32)).await;
    assert!(
        matches!(missing, Err(PartnerError::NotFound(_))),
        "{missing:?}"
    );
});

on_both_backends!(passwords_stored_as_argon2id, |store: Store| async move {
    setup(&store).await;
    let rec = store.user_for_auth(CLERK).await.unwrap().unwrap();
    assert!(
        rec.password_hash.starts_with("$argon2id$"),
        "{}",
        rec.password_hash
    );
    assert!(!rec.password_hash.contains(CLERK_PW));
    // Same password, different salt.
    let other = store.user_for_auth(PRIMARY).await.unwrap().unwrap();
    assert_ne!(rec.password_hash, other.password_hash);
    assert!(!format!("{rec:?}").contains("argon2"));
});

#[test]
fn password_rules() {
    assert_eq!(
        HashedPassword::new("short-pw").unwrap_err(),
        PasswordError::TooShort
    );
    assert_eq!(
        HashedPassword::new("zzzzzzzzzzzzzzzz").unwrap_err(),
        PasswordError::TooSimple
    );
    let generated = hts_gateway::auth::generate_password();
    assert!(generated.len() >= 20);
    assert_ne!(generated, hts_gateway::auth::generate_password());
    HashedPassword::new(&generated).unwrap();
}
