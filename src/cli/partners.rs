//! `hts-gateway admin partner|user|sender|provider|cert ...`: operators manage trading
//! partners, their users, what each user may act for, and client certificates.
//!
//! Passwords come from `--password`, from `HTS_NEW_PASSWORD` (keeps them out of shell history
//! and process lists), or are generated with `--generate-password` and printed once.
//!
//! Exit status: 0 done, 1 refused (unknown name, duplicate, invalid value, weak password),
//! 2 the database or a file cannot be used.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use sha2::{Digest, Sha256};

use super::admin::DatabaseArgs;
use crate::auth::{HashedPassword, generate_password};
use crate::store::Store;
use crate::store::partners::{CertificateOwner, PartnerError};

/// The partner administration commands (flattened into `admin`).
#[derive(Debug, Subcommand)]
pub enum PartnerCommand {
    /// Trading partners (organizations), each with its Primary User.
    #[command(subcommand)]
    Partner(OrganizationCommand),
    /// Users: add, reset passwords, deactivate, reactivate.
    #[command(subcommand)]
    User(UserCommand),
    /// SenderIDs a user may put in the CORE envelope.
    #[command(subcommand)]
    Sender(SenderCommand),
    /// Provider IDs / service locations (10 characters) a user may act for.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// TLS client certificates, known by the SHA-256 fingerprint of their DER.
    #[command(subcommand)]
    Cert(CertCommand),
}

#[derive(Debug, Subcommand)]
pub enum OrganizationCommand {
    /// Add an organization and its Primary User.
    Add {
        /// Organization name (unique).
        name: String,
        /// User name of the Primary User (unique ignoring case).
        #[arg(long)]
        primary_user: String,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List organizations with their users, SenderIDs and provider IDs.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user to an organization.
    Add {
        /// The organization's name.
        #[arg(long)]
        organization: String,
        /// User name (unique ignoring case).
        user: String,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Set a new password; also clears failed attempts and any lockout.
    ResetPassword {
        user: String,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Refuse the user from now on (kept on file).
    Deactivate {
        user: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Accept the user again; also clears failed attempts and any lockout.
    Activate {
        user: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum SenderCommand {
    /// Let USER send with SENDER_ID.
    Add {
        user: String,
        sender_id: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Stop USER sending with SENDER_ID.
    Remove {
        user: String,
        sender_id: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// Let USER inquire and submit for PROVIDER_ID.
    Add {
        user: String,
        provider_id: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Stop USER acting for PROVIDER_ID.
    Remove {
        user: String,
        provider_id: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Register the first certificate of a PEM file (or a DER file). It acts as the given
    /// user, or with --organization as the organization's Primary User.
    Add {
        #[command(flatten)]
        owner: CertOwnerArgs,
        file: PathBuf,
        /// A description for operators (default: the file name).
        #[arg(long)]
        subject: Option<String>,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List registered certificates.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Stop a certificate authenticating.
    Deactivate {
        /// SHA-256 fingerprint, hex (any case, `:` separators allowed).
        fingerprint: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct CertOwnerArgs {
    /// Act as this organization's Primary User.
    #[arg(long)]
    organization: Option<String>,
    /// Act as this user.
    #[arg(long)]
    user: Option<String>,
}

/// Where a new password comes from.
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// The new password (at least 12 characters). Prefer HTS_NEW_PASSWORD or
    /// --generate-password: command lines are visible to other users and kept in history.
    #[arg(long, env = "HTS_NEW_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Generate a strong password and print it once.
    #[arg(long)]
    generate_password: bool,
}

/// Runs one partner administration command.
pub fn run(cmd: PartnerCommand) -> ExitCode {
    super::block_on(execute(cmd))
}

/// What to do, once the database is known.
enum Action {
    AddOrganization(String, String, PasswordArgs),
    ListOrganizations,
    AddUser(String, String, PasswordArgs),
    ResetPassword(String, PasswordArgs),
    SetActive(String, bool),
    Sender { add: bool, user: String, id: String },
    Provider { add: bool, user: String, id: String },
    AddCertificate(CertOwnerArgs, PathBuf, Option<String>),
    ListCertificates,
    DeactivateCertificate(String),
}

/// Why a command failed, and so its exit status.
enum Failure {
    /// The operator's request cannot be done as asked: status 1.
    Refused(String),
    /// The database or a file is unusable: status 2.
    Broken(String),
}

impl From<PartnerError> for Failure {
    fn from(e: PartnerError) -> Self {
        match e {
            PartnerError::Store(e) => Self::Broken(e.to_string()),
            other => Self::Refused(other.to_string()),
        }
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Broken(e.to_string())
    }
}

fn split(cmd: PartnerCommand) -> (DatabaseArgs, Action) {
    use CertCommand as C;
    use OrganizationCommand as O;
    use ProviderCommand as P;
    use SenderCommand as S;
    use UserCommand as U;
    match cmd {
        PartnerCommand::Partner(O::Add {
            name,
            primary_user,
            password,
            db,
        }) => (db, Action::AddOrganization(name, primary_user, password)),
        PartnerCommand::Partner(O::List { db }) => (db, Action::ListOrganizations),
        PartnerCommand::User(U::Add {
            organization,
            user,
            password,
            db,
        }) => (db, Action::AddUser(organization, user, password)),
        PartnerCommand::User(U::ResetPassword { user, password, db }) => {
            (db, Action::ResetPassword(user, password))
        }
        PartnerCommand::User(U::Deactivate { user, db }) => (db, Action::SetActive(user, false)),
        PartnerCommand::User(U::Activate { user, db }) => (db, Action::SetActive(user, true)),
        PartnerCommand::Sender(S::Add {
            user,
            sender_id,
            db,
        }) => (
            db,
            Action::Sender {
                add: true,
                user,
                id: sender_id,
            },
        ),
        PartnerCommand::Sender(S::Remove {
            user,
            sender_id,
            db,
        }) => (
            db,
            Action::Sender {
                add: false,
                user,
                id: sender_id,
            },
        ),
        PartnerCommand::Provider(P::Add {
            user,
            provider_id,
            db,
        }) => (
            db,
            Action::Provider {
                add: true,
                user,
                id: provider_id,
            },
        ),
        PartnerCommand::Provider(P::Remove {
            user,
            provider_id,
            db,
        }) => (
            db,
            Action::Provider {
                add: false,
                user,
                id: provider_id,
            },
        ),
        PartnerCommand::Cert(C::Add {
            owner,
            file,
            subject,
            db,
        }) => (db, Action::AddCertificate(owner, file, subject)),
        PartnerCommand::Cert(C::List { db }) => (db, Action::ListCertificates),
        PartnerCommand::Cert(C::Deactivate { fingerprint, db }) => {
            (db, Action::DeactivateCertificate(fingerprint))
        }
    }
}

async fn execute(cmd: PartnerCommand) -> ExitCode {
    let (db, action) = split(cmd);
    let store = match Store::open(&db.database).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: {e}", db.database);
            return ExitCode::from(2);
        }
    };
    let result = perform(&store, action).await;
    store.close().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Refused(m)) => {
            eprintln!("{m}");
            ExitCode::from(1)
        }
        Err(Failure::Broken(m)) => {
            eprintln!("{m}");
            ExitCode::from(2)
        }
    }
}

async fn perform(store: &Store, action: Action) -> Result<(), Failure> {
    match action {
        Action::AddOrganization(name, primary, password) => {
            let (hash, generated) = new_password(password)?;
            store.add_organization(&name, &primary, &hash).await?;
            println!("added organization {name:?} with Primary User {primary:?}");
            print_generated(&primary, generated);
        }
        Action::ListOrganizations => list_organizations(store).await?,
        Action::AddUser(organization, user, password) => {
            let (hash, generated) = new_password(password)?;
            store.add_user(&organization, &user, &hash).await?;
            println!("added user {user:?} to {organization:?}");
            print_generated(&user, generated);
        }
        Action::ResetPassword(user, password) => {
            let (hash, generated) = new_password(password)?;
            store.set_password(&user, &hash).await?;
            println!("password of {user:?} reset; failed attempts and lockout cleared");
            print_generated(&user, generated);
        }
        Action::SetActive(user, active) => {
            store.set_user_active(&user, active).await?;
            let state = if active { "active" } else { "inactive" };
            println!("user {user:?} is now {state}");
        }
        Action::Sender { add, user, id } => {
            let changed = if add {
                store.add_sender_id(&user, &id).await?
            } else {
                store.remove_sender_id(&user, &id).await?
            };
            report_link("SenderID", add, changed, &user, &id);
        }
        Action::Provider { add, user, id } => {
            let changed = if add {
                store.add_provider_id(&user, &id).await?
            } else {
                store.remove_provider_id(&user, &id).await?
            };
            report_link("provider ID", add, changed, &user, &id);
        }
        Action::AddCertificate(owner, file, subject) => {
            let fingerprint = certificate_fingerprint(&file)?;
            let subject = subject.unwrap_or_else(|| file_name(&file));
            let owner = match (owner.organization, owner.user) {
                (Some(org), _) => CertificateOwner::Organization(org),
                (None, Some(user)) => CertificateOwner::User(user),
                (None, None) => {
                    return Err(Failure::Refused("give --organization or --user".to_owned()));
                }
            };
            store
                .add_certificate(&owner, &fingerprint, &subject)
                .await?;
            println!("added certificate {fingerprint} ({subject})");
        }
        Action::ListCertificates => {
            for c in store.certificates().await? {
                let acts_as = c.user.unwrap_or_else(|| "(Primary User)".to_owned());
                let state = if c.active { "active" } else { "inactive" };
                println!(
                    "{}  {}  {}  {}  {}",
                    c.fingerprint, c.organization, acts_as, state, c.subject
                );
            }
        }
        Action::DeactivateCertificate(fingerprint) => {
            store.deactivate_certificate(&fingerprint).await?;
            println!("certificate {fingerprint} deactivated");
        }
    }
    Ok(())
}

async fn list_organizations(store: &Store) -> Result<(), Failure> {
    for org in store.organizations().await? {
        let state = if org.active { "active" } else { "inactive" };
        println!("{} ({state}, since {})", org.name, org.created.date());
        for u in org.users {
            let mut notes = Vec::new();
            if u.primary {
                notes.push("Primary User".to_owned());
            }
            if !u.active {
                notes.push("inactive".to_owned());
            }
            if let Some(t) = u.locked_until {
                notes.push(format!("locked until {t}"));
            }
            if u.failed_count > 0 {
                notes.push(format!("{} failed attempts", u.failed_count));
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join(", "))
            };
            println!("  user {}{notes}", u.name);
            println!("    SenderIDs: {}", or_none(&u.sender_ids));
            println!("    provider IDs: {}", or_none(&u.provider_ids));
        }
    }
    Ok(())
}

fn or_none(list: &[String]) -> String {
    if list.is_empty() {
        "(none)".to_owned()
    } else {
        list.join(", ")
    }
}

fn report_link(what: &str, add: bool, changed: bool, user: &str, id: &str) {
    match (add, changed) {
        (true, true) => println!("{user:?} may now use {what} {id:?}"),
        (true, false) => println!("{user:?} could already use {what} {id:?}"),
        (false, true) => println!("{user:?} may no longer use {what} {id:?}"),
        (false, false) => println!("{user:?} was not linked to {what} {id:?}"),
    }
}

/// The hash of the new password, and the password itself when it was generated (to be shown
/// once).
fn new_password(args: PasswordArgs) -> Result<(HashedPassword, Option<String>), Failure> {
    let (password, generated) = match (args.password, args.generate_password) {
        (Some(_), true) => {
            return Err(Failure::Refused(
                "--generate-password and --password (or HTS_NEW_PASSWORD) both given: \
                 choose one"
                    .to_owned(),
            ));
        }
        (Some(p), false) => (p, false),
        (None, true) => (generate_password(), true),
        (None, false) => {
            return Err(Failure::Refused(
                "no password: give --generate-password, --password or HTS_NEW_PASSWORD".to_owned(),
            ));
        }
    };
    let hash = HashedPassword::new(&password).map_err(|e| Failure::Refused(e.to_string()))?;
    Ok((hash, generated.then_some(password)))
}

fn print_generated(user: &str, generated: Option<String>) {
    if let Some(p) = generated {
        println!("generated password for {user:?} (shown only now): {p}");
    }
}

/// SHA-256 of the DER of the first certificate in a PEM file (or of a DER file), lower-case
/// hex: what the TLS layer computes for the client's certificate.
fn certificate_fingerprint(path: &Path) -> Result<String, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::Broken(format!("{}: cannot read: {e}", path.display())))?;
    let der = match CertificateDer::pem_slice_iter(&bytes).next() {
        Some(Ok(cert)) => cert.as_ref().to_vec(),
        Some(Err(e)) => {
            return Err(Failure::Refused(format!(
                "{}: unreadable PEM: {e}",
                path.display()
            )));
        }
        // Not PEM: a DER certificate starts with a SEQUENCE tag.
        None if bytes.first() == Some(&0x30) => bytes,
        None => {
            return Err(Failure::Refused(format!(
                "{}: no CERTIFICATE in the file",
                path.display()
            )));
        }
    };
    Ok(Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
