//! `hts-gateway x12 ...`: validation dry runs for EDI teams.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use crate::payer::{self, AnswerKind, PlanIdentity, ResponseContext, parse_date};
use crate::store::Store;
use crate::x12::ack::{AckControl, write_acknowledgment};
use crate::x12::report::{Report, Severity};
use crate::x12::validate_reader;

#[derive(Debug, Subcommand)]
pub enum X12Command {
    /// Validate X12 files against the HIPAA 5010 implementation guides.
    ///
    /// Exit status: 0 when every transaction set is accepted, 1 when anything is rejected,
    /// 2 when a file cannot be read.
    Validate {
        /// Files to validate.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print findings as JSON (one object per file, one per line).
        #[arg(long)]
        json: bool,
        /// Write the TA1/999 the gateway would send into this folder.
        #[arg(long, value_name = "DIR")]
        ack_out: Option<PathBuf>,
        /// First interchange control number (ISA13) for written acknowledgements.
        #[arg(long, default_value_t = 1)]
        control_number: u32,
    },
    /// Write a synthetic, valid 837P (005010X222A1) to standard output, for load tests.
    Sample {
        /// Number of claims.
        #[arg(long, default_value_t = 1000)]
        claims: usize,
        /// Claims per transaction set.
        #[arg(long, default_value_t = 5000)]
        claims_per_set: usize,
        /// Transaction sets per interchange.
        #[arg(long, default_value_t = 100)]
        sets_per_interchange: usize,
    },
    /// Answer a 270 (eligibility) or 276 (claim status) file from the plan's database and
    /// print the 271 or 277, for dry runs; a file that fails validation gets its TA1/999.
    ///
    /// Exit status: 0 answered, 1 answered with a TA1/999 (the file was rejected), 2 no answer
    /// (unreadable file, not an inquiry, database error).
    Respond {
        file: PathBuf,
        #[command(flatten)]
        db: super::admin::DatabaseArgs,
        /// The plan's payer identifier (2100A NM109): inquiries addressed elsewhere are refused.
        #[arg(long, env = "HTS_PAYER_ID", default_value = "DEMOPLAN")]
        payer_id: String,
        /// The plan's name in the answer.
        #[arg(long, env = "HTS_PAYER_NAME", default_value = "DEMO HEALTH PLAN")]
        payer_name: String,
        /// Answer as of this date (YYYY-MM-DD) instead of today (UTC).
        #[arg(long, value_name = "DATE")]
        today: Option<String>,
        /// Answer as a partner allowed only these provider IDs (repeatable); default: any.
        #[arg(long = "authorized-provider", value_name = "PROVIDER_ID")]
        authorized_providers: Vec<String>,
        /// Interchange control number (ISA13) of the answer.
        #[arg(long, default_value_t = 1)]
        control_number: u32,
    },
}

pub fn run(cmd: X12Command) -> ExitCode {
    match cmd {
        X12Command::Respond {
            file,
            db,
            payer_id,
            payer_name,
            today,
            authorized_providers,
            control_number,
        } => {
            let mut ctx = ResponseContext::now(PlanIdentity {
                name: payer_name,
                payer_id,
            });
            if let Some(t) = today {
                match parse_date(&t) {
                    Some(d) => ctx.today = d,
                    None => {
                        eprintln!("--today {t:?} is not a date (YYYY-MM-DD)");
                        return ExitCode::from(2);
                    }
                }
            }
            if !authorized_providers.is_empty() {
                ctx.authorized_providers = Some(authorized_providers);
            }
            ctx.interchange_control = control_number;
            ctx.group_control = control_number;
            ctx.line_breaks = true;
            super::block_on(respond(file, db.database, ctx))
        }
        X12Command::Validate {
            files,
            json,
            ack_out,
            control_number,
        } => validate(&files, json, ack_out.as_deref(), control_number),
        X12Command::Sample {
            claims,
            claims_per_set,
            sets_per_interchange,
        } => {
            let shape = crate::x12::sample::Sample837 {
                claims,
                claims_per_set,
                sets_per_interchange,
            };
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            match crate::x12::sample::write_837p(shape, &mut out).and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("cannot write: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

async fn respond(path: PathBuf, database: String, ctx: ResponseContext) -> ExitCode {
    let payload = match std::fs::read(&path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}: cannot read: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let store = match Store::open(&database).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{database}: {e}");
            return ExitCode::from(2);
        }
    };
    let result = payer::respond(&payload, &store, &ctx).await;
    store.close().await;
    match result {
        Ok(answer) => {
            let mut out = std::io::stdout().lock();
            if out
                .write_all(&answer.bytes)
                .and_then(|()| out.flush())
                .is_err()
            {
                return ExitCode::from(2);
            }
            if answer.kind == AnswerKind::Acknowledgment {
                eprint!("{}", human(&path, &answer.report));
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            ExitCode::from(2)
        }
    }
}

fn validate(files: &[PathBuf], json: bool, ack_out: Option<&Path>, mut control: u32) -> ExitCode {
    let mut status = 0u8;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in files {
        let report = match File::open(path).and_then(|f| validate_reader(BufReader::new(f))) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{}: cannot read: {e}", path.display());
                status = 2;
                continue;
            }
        };
        let accepted = report.accepted();
        if !accepted && status == 0 {
            status = 1;
        }
        let printed = if json {
            let v = serde_json::json!({ "file": path.display().to_string(), "accepted": accepted, "report": report });
            writeln!(out, "{v}")
        } else {
            write!(out, "{}", human(path, &report))
        };
        if printed.is_err() {
            return ExitCode::from(2);
        }
        if let Some(dir) = ack_out {
            let (date, time) = now_ccyymmdd_hhmm();
            for (i, ic) in report.interchanges.iter().enumerate() {
                let ctl = AckControl {
                    interchange_control: control,
                    group_control: control,
                    date: date.clone(),
                    time: time.clone(),
                    line_breaks: true,
                };
                let Some(bytes) = write_acknowledgment(ic, &ctl) else {
                    continue;
                };
                control = control.wrapping_add(1);
                let name = path
                    .file_name()
                    .map_or("input".into(), |n| n.to_string_lossy().into_owned());
                let target = dir.join(format!("{name}.{}.ack.x12", i + 1));
                if let Err(e) =
                    std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&target, bytes))
                {
                    eprintln!("{}: cannot write: {e}", target.display());
                    return ExitCode::from(2);
                }
            }
        }
    }
    ExitCode::from(status)
}

/// The human-readable report: one line per finding, indented by envelope level.
pub fn human(path: &Path, r: &Report) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {}",
        path.display(),
        if r.accepted() { "ACCEPTED" } else { "REJECTED" }
    );
    for n in &r.notes {
        let level = if n.severity == Severity::Error {
            "error"
        } else {
            "warning"
        };
        let _ = writeln!(s, "  {level} at byte {}: {}", n.offset, n.message);
    }
    for ic in &r.interchanges {
        let (ack, note) = ic.ta1_verdict();
        let _ = writeln!(
            s,
            "  interchange {} from {}/{} to {}/{}{}: TA1 {ack} {note}",
            ic.control_number(),
            ic.isa(5),
            ic.isa(6).trim(),
            ic.isa(7),
            ic.isa(8).trim(),
            if ic.is_test() { " (test)" } else { "" }
        );
        for e in &ic.errors {
            let _ = writeln!(s, "    error TA1 {}: {}", e.code, e.message);
        }
        for w in &ic.warnings {
            let _ = writeln!(s, "    warning: {w}");
        }
        for g in &ic.groups {
            let _ = writeln!(
                s,
                "    group {} {} ({}): AK9 {} {}/{} sets accepted",
                g.gs(1),
                g.gs(6),
                g.gs(8),
                g.ack_code(),
                g.accepted_sets(),
                g.sets.len()
            );
            for e in &g.errors {
                let _ = writeln!(s, "      error AK9 {}: {}", e.code, e.message);
            }
            for set in &g.sets {
                let verdict = if set.accepted() {
                    "accepted".to_string()
                } else {
                    format!("rejected (IK5 R {})", set.ik5_codes().join(" "))
                };
                let _ = writeln!(
                    s,
                    "      set {} {} ({}): {verdict}",
                    set.st01,
                    set.st02,
                    set.guide.unwrap_or("no guide")
                );
                for e in &set.errors {
                    let _ = writeln!(s, "        error IK5 {}: {}", e.code, e.message);
                }
                for seg in &set.segments {
                    let _ = writeln!(
                        s,
                        "        IK3 {} at segment {} (loop {}) code {}: {}",
                        seg.segment, seg.position, seg.loop_id, seg.code, seg.message
                    );
                    for e in &seg.elements {
                        let _ = writeln!(
                            s,
                            "          IK4 {} ({}) code {}: {}",
                            e.position_text(),
                            e.reference,
                            e.code,
                            e.message
                        );
                    }
                }
                if set.more_issues > 0 {
                    let _ = writeln!(s, "        ... and {} more segment issues", set.more_issues);
                }
            }
        }
    }
    s
}

/// Today's date and time in UTC as CCYYMMDD and HHMM.
fn now_ccyymmdd_hhmm() -> (String, String) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        format!("{y:04}{m:02}{d:02}"),
        format!("{:02}{:02}", rem / 3600, rem % 3600 / 60),
    )
}
