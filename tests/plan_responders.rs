//! 270 → 271 and 276 → 277 from the demo data set (fixtures/plan), on SQLite and PostgreSQL.
//!
//! Each case sends a request through `payer::respond` (validation, lookup, answer), checks the
//! segments the rule requires, validates the answer with the engine's own 271/277 specs, and
//! for representative cases compares it byte for byte with tests/golden/plan/ (both backends
//! against the same file; `UPDATE_GOLDEN=1` rewrites them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use hts_gateway::payer::PlanData;
use hts_gateway::payer::cache::CachedPlan;
use hts_gateway::payer::load::{FileKind, load_members};
use hts_gateway::payer::respond::RespondError;
use hts_gateway::payer::{AnswerKind, PlanIdentity, ResponseContext, parse_date, respond};
use hts_gateway::store::Store;
use time::Time;

const HOSPITAL: &str = "NM1*1P*2*DEMO COMMUNITY HOSPITAL*****XX*1234567893~";

/// The fixed context every case answers in (the demo data's scenarios assume this date).
fn context() -> ResponseContext {
    let mut ctx = ResponseContext::now(PlanIdentity::default());
    ctx.today = parse_date("2026-06-15").unwrap();
    ctx.now = Time::from_hms(12, 0, 0).unwrap();
    ctx.interchange_control = 1;
    ctx.group_control = 1;
    ctx.line_breaks = true;
    ctx
}

/// Wraps `body` (segments after BHT) in ISA/GS/ST/BHT … SE/GE/IEA with correct counts.
fn envelope(gs01: &str, st01: &str, version: &str, bht: &str, body: &str) -> Vec<u8> {
    let segs: Vec<&str> = body.split('~').filter(|s| !s.trim().is_empty()).collect();
    let count = segs.len() + 3; // ST, BHT, SE
    let mut s = String::new();
    s.push_str("ISA*00*          *00*          *ZZ*110048577A     *ZZ*DEMOPLAN       *260615*1200*^*00501*000000101*0*T*:~\n");
    s.push_str(&format!(
        "GS*{gs01}*110048577A*DEMOPLAN*20260615*1200*101*X*{version}~\n"
    ));
    s.push_str(&format!("ST*{st01}*0001*{version}~\n{bht}~\n"));
    for seg in segs {
        s.push_str(seg.trim());
        s.push_str("~\n");
    }
    s.push_str(&format!("SE*{count}*0001~\nGE*1*101~\nIEA*1*000000101~\n"));
    s.into_bytes()
}

/// A 270 from the demo hospital (or `receiver`) about one subscriber (`subscriber`: the
/// segments of 2000C after its HL, TRN included; `dependent`: the segments of a 2000D).
fn request_270(receiver: &str, subscriber: &str, dependent: Option<&str>) -> Vec<u8> {
    let child = if dependent.is_some() { "1" } else { "0" };
    let mut body = format!(
        "HL*1**20*1~NM1*PR*2*DEMO HEALTH PLAN*****PI*DEMOPLAN~HL*2*1*21*1~{receiver}\
         HL*3*2*22*{child}~{subscriber}"
    );
    if let Some(d) = dependent {
        body.push_str(&format!("HL*4*3*23*0~{d}"));
    }
    envelope(
        "HS",
        "270",
        "005010X279A1",
        "BHT*0022*13*REQ0001*20260615*1200",
        &body,
    )
}

fn sub_270(rest: &str) -> Vec<u8> {
    request_270(
        HOSPITAL,
        &format!("TRN*1*TRACE0001*9876543210~{rest}"),
        None,
    )
}

/// A 276 from the demo hospital: `provider` is the 2100C NM1, `subscriber` the 2000D segments
/// after its HL (DMG, NM1, then 2200D loops).
fn request_276(provider: &str, subscriber: &str, dependent: Option<&str>) -> Vec<u8> {
    let child = if dependent.is_some() { "1" } else { "0" };
    let mut body = format!(
        "HL*1**20*1~NM1*PR*2*DEMO HEALTH PLAN*****PI*DEMOPLAN~HL*2*1*21*1~\
         NM1*41*2*DEMO COMMUNITY HOSPITAL*****46*110048577A~HL*3*2*19*1~{provider}\
         HL*4*3*22*{child}~{subscriber}"
    );
    if let Some(d) = dependent {
        body.push_str(&format!("HL*5*4*23~{d}"));
    }
    envelope(
        "HR",
        "276",
        "005010X212",
        "BHT*0010*13*REQ0002*20260615*1200",
        &body,
    )
}

const JANE_276: &str = "DMG*D8*19850312*F~NM1*IL*1*DOE*JANE****MI*100000000001~";

fn claim_276(rest: &str) -> Vec<u8> {
    request_276(
        HOSPITAL,
        &format!("{JANE_276}TRN*1*CLAIMTRACE1~{rest}"),
        None,
    )
}

struct Case {
    name: &'static str,
    request: Vec<u8>,
    /// Provider IDs the partner may ask about (None: any).
    authorized: Option<&'static [&'static str]>,
    /// Segments (or fragments) the answer must contain, in this order.
    expect: &'static [&'static str],
    /// Fragments the answer must not contain.
    absent: &'static [&'static str],
    golden: bool,
}

fn case(name: &'static str, request: Vec<u8>, expect: &'static [&'static str]) -> Case {
    Case {
        name,
        request,
        authorized: None,
        expect,
        absent: &[],
        golden: false,
    }
}

impl Case {
    fn golden(mut self) -> Self {
        self.golden = true;
        self
    }
    fn absent(mut self, absent: &'static [&'static str]) -> Self {
        self.absent = absent;
        self
    }
    fn authorized(mut self, ids: &'static [&'static str]) -> Self {
        self.authorized = Some(ids);
        self
    }
}

fn cases_271() -> Vec<Case> {
    vec![
        case(
            "271_active_member_id",
            sub_270("NM1*IL*1*DOE*JANE****MI*100000000001~DTP*291*D8*20260610~EQ*30~"),
            &[
                "ST*271*0001*005010X279A1~",
                "BHT*0022*11*REQ0001*20260615*1200~",
                "HL*1**20*1~",
                "NM1*PR*2*DEMO HEALTH PLAN*****PI*DEMOPLAN~",
                "HL*2*1*21*1~",
                "NM1*1P*2*DEMO COMMUNITY HOSPITAL*****XX*1234567893~",
                "HL*3*2*22*0~",
                "TRN*2*TRACE0001*9876543210~",
                "NM1*IL*1*DOE*JANE*A***MI*100000000001~",
                "N3*1 MAIN ST~",
                "DMG*D8*19850312*F~",
                "DTP*291*D8*20260610~",
                "EB*1*IND*30*MC*STANDARD PLAN~",
                "DTP*307*D8*20260610~",
            ],
        )
        .absent(&["AAA*"])
        .golden(),
        case(
            "271_no_date_means_today",
            sub_270("NM1*IL*1*DOE*JANE****MI*100000000001~EQ*30~"),
            &["DTP*291*D8*20260615~", "EB*1*IND*30*MC*STANDARD PLAN~"],
        ),
        case(
            "271_inactive",
            sub_270("NM1*IL*1*ROE*RICHARD****MI*100000000002~EQ*30~"),
            &["EB*6*IND*30~", "DTP*307*D8*20260615~"],
        )
        .absent(&["EB*1*"]),
        case(
            "271_partial_span",
            sub_270("NM1*IL*1*PARTIAL*PAT****MI*100000000003~DTP*291*RD8*20260601-20260610~EQ*30~"),
            &[
                "DTP*291*RD8*20260601-20260610~",
                "EB*1*IND*30*MC*",
                "DTP*307*RD8*20260601-20260605~",
                "EB*6*IND*30~",
                "DTP*307*RD8*20260606-20260610~",
            ],
        )
        .golden(),
        case(
            "271_managed_care_pcp",
            sub_270("NM1*IL*1*MCO*MARIA****MI*100000000004~EQ*30~"),
            &[
                "EB*1*IND*30*MC*",
                "EB*MC*IND*30*HM*DEMO MCO PLAN~",
                "LS*2120~",
                "NM1*Y2*2*DEMO MCO PLAN*****PI*MCO01~",
                "LE*2120~",
                "EB*L*IND*30~",
                "NM1*P3*1*WELBY*MARCUS****XX*",
                "LE*2120~",
            ],
        )
        .golden(),
        case(
            "271_pcc_pcp_without_npi",
            sub_270("NM1*IL*1*PCC*PETER****MI*100000000005~EQ*30~"),
            &[
                "EB*L*IND*30**PRIMARY CARE CLINICIAN PLAN~",
                "NM1*P3*1*HOUSE*GREGORY****SV*550044556E~",
            ],
        ),
        case(
            "271_other_insurance",
            sub_270("NM1*IL*1*COB*CAROL****MI*100000000006~DTP*291*D8*20260601~EQ*30~"),
            &[
                "EB*1*IND*30*MC*",
                "EB*R*IND*30*C1~",
                "REF*IG*POL12345~",
                "DTP*290*D8*20260601~",
                "LS*2120~",
                "NM1*PRP*2*BLUE CARRIER INSURANCE*****PI*BCX01~",
                "LE*2120~",
            ],
        )
        .golden(),
        case(
            "271_qmb",
            sub_270("NM1*IL*1*QMB*QUINCY****MI*100000000007~EQ*30~"),
            &[
                "EB*1*IND*30*MC*",
                "MSG*611 Member is Qualified Medicare Beneficiary~",
            ],
        )
        .golden(),
        case(
            "271_not_qmb_has_no_message",
            sub_270("NM1*IL*1*DOE*JANE****MI*100000000001~EQ*30~"),
            &["EB*1*IND*30*MC*"],
        )
        .absent(&["MSG*"]),
        case(
            "271_by_ssn",
            sub_270("NM1*IL*1*DOE*JANE~REF*SY*900000001~EQ*30~"),
            &["NM1*IL*1*DOE*JANE*A***MI*100000000001~", "EB*1*"],
        ),
        case(
            "271_by_dcf_id",
            sub_270("NM1*IL*1*AGENCY*ALEX****MI*DCF0000123~EQ*30~"),
            &["NM1*IL*1*AGENCY*ALEX****MI*100000000010~", "EB*1*"],
        ),
        case(
            "271_by_dys_id",
            sub_270("NM1*IL*1*YOUTH*YVONNE****MI*DYS0000456~EQ*30~"),
            &["MI*100000000011~", "EB*1*"],
        ),
        case(
            "271_by_demographics",
            sub_270("NM1*IL*1*DOE*JANE~DMG*D8*19850312*F~EQ*30~"),
            &["MI*100000000001~", "EB*1*"],
        ),
        case(
            "271_demographics_several_matches",
            sub_270("NM1*IL*1*LEE*CHRIS~DMG*D8*20100704*M~EQ*30~"),
            &["NM1*IL*1*LEE*CHRIS~", "AAA*Y**76*C~"],
        )
        .absent(&["EB*"])
        .golden(),
        case(
            "271_demographics_not_found",
            sub_270("NM1*IL*1*NOBODY*NEMO~DMG*D8*20000101*M~EQ*30~"),
            &["AAA*Y**75*C~"],
        )
        .absent(&["EB*"]),
        case(
            "271_demographics_missing_birth_date",
            sub_270("NM1*IL*1*DOE*JANE~EQ*30~"),
            &["AAA*N**58*C~"],
        ),
        case(
            "271_demographics_missing_gender",
            sub_270("NM1*IL*1*DOE*JANE~DMG*D8*19850312~EQ*30~"),
            &["AAA*N**74*C~"],
        ),
        case(
            "271_unknown_member_id",
            sub_270("NM1*IL*1*DOE*JANE****MI*999999999999~EQ*30~"),
            &["NM1*IL*1*DOE*JANE****MI*999999999999~", "AAA*N**72*C~"],
        )
        .absent(&["EB*"])
        .golden(),
        case(
            "271_birth_date_mismatch",
            sub_270("NM1*IL*1*DOE*JANE****MI*100000000001~DMG*D8*19850313*F~EQ*30~"),
            &["AAA*N**71*C~"],
        )
        .absent(&["EB*"]),
        case(
            "271_name_mismatch",
            sub_270("NM1*IL*1*SMITH*JANE****MI*100000000001~EQ*30~"),
            &["AAA*N**73*C~"],
        ),
        case(
            "271_first_name_abbreviated_matches",
            sub_270("NM1*IL*1*DOE*JAN****MI*100000000001~EQ*30~"),
            &["EB*1*"],
        )
        .absent(&["AAA*"]),
        case(
            "271_gender_mismatch",
            sub_270("NM1*IL*1*DOE*JANE****MI*100000000001~DMG*D8*19850312*M~EQ*30~"),
            &["AAA*N**74*C~"],
        ),
        case(
            "271_gender_unknown_on_file_matches",
            sub_270("NM1*IL*1*SMITH*UNI****MI*100000000016~DMG*D8*19990909*F~EQ*30~"),
            &["EB*1*"],
        )
        .absent(&["AAA*"]),
        case(
            "271_last_name_normalized",
            sub_270("NM1*IL*1*OBRIEN JR*SEAN****MI*100000000014~EQ*30~"),
            &["NM1*IL*1*O'BRIEN*SEAN****MI*100000000014~", "EB*1*"],
        )
        .absent(&["AAA*"]),
        case(
            "271_last_name_normalized_in_search",
            sub_270("NM1*IL*1*O BRIEN*SEAN~DMG*D8*19820317*M~EQ*30~"),
            &["MI*100000000014~", "EB*1*"],
        ),
        case(
            "271_range_31_days_allowed",
            sub_270("NM1*IL*1*DOE*JANE****MI*100000000001~DTP*291*RD8*20260501-20260531~EQ*30~"),
            &["DTP*291*RD8*20260501-20260531~", "EB*1*"],
        ),
        case(
            "271_range_32_days_refused",
            sub_270("NM1*IL*1*DOE*JANE****MI*100000000001~DTP*291*RD8*20260501-20260601~EQ*30~"),
            &["AAA*N**62*C~", "DMG*D8*19850312*F~"],
        )
        .absent(&["EB*"])
        .golden(),
        case(
            "271_four_years_back_allowed",
            sub_270("NM1*IL*1*DOE*JANE****MI*100000000001~DTP*291*D8*20220615~EQ*30~"),
            &["EB*1*"],
        ),
        case(
            "271_more_than_four_years_back_refused",
            sub_270("NM1*IL*1*DOE*JANE****MI*100000000001~DTP*291*D8*20220614~EQ*30~"),
            &["AAA*N**62*C~"],
        ),
        case(
            "271_future_refused",
            sub_270("NM1*IL*1*DOE*JANE****MI*100000000001~DTP*291*D8*20260616~EQ*30~"),
            &["AAA*N**63*C~"],
        ),
        case(
            "271_date_in_eq_loop",
            sub_270("NM1*IL*1*DOE*JANE****MI*100000000001~EQ*30~DTP*291*D8*20260601~"),
            &["DTP*291*D8*20260601~", "EB*1*"],
        ),
        case(
            "271_born_after_service",
            sub_270("NM1*IL*1*NEWBORN*NINA****MI*100000000013~DTP*291*D8*20260520~EQ*30~"),
            &["AAA*N**60*C~"],
        ),
        case(
            "271_died_before_service",
            sub_270("NM1*IL*1*LATE*LARRY****MI*100000000012~DTP*291*D8*20260201~EQ*30~"),
            &["AAA*Y**61*N~"],
        ),
        case(
            "271_service_types_merged",
            sub_270("NM1*IL*1*DOE*JANE****MI*100000000001~EQ*1^33^35~EQ*88~EQ*33~"),
            &["EB*1*IND*1^33^35^88*MC*STANDARD PLAN~"],
        ),
        case(
            "271_provider_not_on_file",
            request_270(
                "NM1*1P*2*STRANGER CLINIC*****XX*1111111112~",
                "TRN*1*TRACE0001*9876543210~NM1*IL*1*DOE*JANE****MI*100000000001~EQ*30~",
                None,
            ),
            &[
                "NM1*1P*2*STRANGER CLINIC*****XX*1111111112~",
                "AAA*Y**51*C~",
                "TRN*2*TRACE0001*9876543210~",
                "NM1*IL*1*DOE*JANE****MI*100000000001~",
            ],
        )
        .absent(&["EB*", "DMG*"])
        .golden(),
        case(
            "271_provider_inactive",
            request_270(
                "NM1*1P*2*CLOSED CLINIC*****SV*330022334C~",
                "TRN*1*TRACE0001*9876543210~NM1*IL*1*DOE*JANE****MI*100000000001~EQ*30~",
                None,
            ),
            &["AAA*Y**50*N~"],
        )
        .absent(&["EB*"]),
        case(
            "271_provider_not_authorized",
            sub_270("NM1*IL*1*DOE*JANE****MI*100000000001~EQ*30~"),
            &["AAA*Y**41*N~"],
        )
        .absent(&["EB*"])
        .authorized(&["440033445D"]),
        case(
            "271_provider_authorized",
            sub_270("NM1*IL*1*DOE*JANE****MI*100000000001~EQ*30~"),
            &["EB*1*"],
        )
        .absent(&["AAA*"])
        .authorized(&["110048577A"]),
        case(
            "271_provider_unsupported_qualifier",
            request_270(
                "NM1*1P*2*SOME CLINIC*****FI*123456789~",
                "TRN*1*T1*9876543210~NM1*IL*1*DOE*JANE****MI*100000000001~EQ*30~",
                None,
            ),
            &["AAA*N**43*C~"],
        ),
        case(
            "271_wrong_payer",
            envelope(
                "HS",
                "270",
                "005010X279A1",
                "BHT*0022*13*REQ0001*20260615*1200",
                "HL*1**20*1~NM1*PR*2*OTHER PLAN*****PI*OTHERPAYER~HL*2*1*21*1~\
                 NM1*1P*2*DEMO COMMUNITY HOSPITAL*****XX*1234567893~HL*3*2*22*0~\
                 NM1*IL*1*DOE*JANE****MI*100000000001~EQ*30~",
            ),
            &["HL*1**20*0~", "AAA*N**79*C~"],
        )
        .absent(&["HL*2*"]),
        case(
            "271_dependent_with_own_id",
            request_270(
                HOSPITAL,
                "NM1*IL*1*DOE*JANE****MI*100000000001~",
                Some("TRN*1*DEPTRACE*9876543210~NM1*03*1*DOE*TIMMY~DMG*D8*20150202*M~EQ*30~"),
            ),
            &[
                "HL*3*2*22*0~",
                "TRN*2*DEPTRACE*9876543210~",
                "NM1*IL*1*DOE*TIMMY****MI*100000000015~",
                "EB*1*IND*30*MC*",
            ],
        )
        .absent(&["HL*4*", "*23*"])
        .golden(),
        case(
            "271_dependent_not_found",
            request_270(
                HOSPITAL,
                "NM1*IL*1*DOE*JANE****MI*100000000001~",
                Some("TRN*1*DEPTRACE*9876543210~NM1*03*1*DOE*NOBODY~DMG*D8*20150202*M~EQ*30~"),
            ),
            &[
                "HL*3*2*22*1~",
                "NM1*IL*1*DOE*JANE*A***MI*100000000001~",
                "HL*4*3*23*0~",
                "TRN*2*DEPTRACE*9876543210~",
                "NM1*03*1*DOE*NOBODY~",
                "AAA*Y**77*C~",
            ],
        )
        .absent(&["EB*"]),
    ]
}

fn cases_277() -> Vec<Case> {
    vec![
        case(
            "277_received",
            claim_276("REF*EJ*RECV-0001~DTP*472*D8*20260501~"),
            &[
                "ST*277*0001*005010X212~",
                "BHT*0010*08*REQ0002*20260615*1200*DG~",
                "NM1*PR*2*DEMO HEALTH PLAN*****PI*DEMOPLAN~",
                "NM1*41*2*DEMO COMMUNITY HOSPITAL*****46*110048577A~",
                "NM1*1P*2*DEMO COMMUNITY HOSPITAL*****XX*1234567893~",
                "NM1*IL*1*DOE*JANE****MI*100000000001~",
                "TRN*2*CLAIMTRACE1~",
                "STC*A2:20*20260503**150~",
                "REF*1K*PCN0000001~",
                "REF*EJ*RECV-0001~",
                "DTP*472*D8*20260501~",
            ],
        )
        .golden(),
        case(
            "277_suspended",
            claim_276("REF*EJ*SUSP-0002~"),
            &["STC*P2:46*20260504**200~", "REF*1K*PCN0000002~"],
        ),
        case(
            "277_paid",
            claim_276("REF*1K*PCN0000003~"),
            &[
                "STC*F1:65*20260420**1200.5*980.25*20260420**20260422*CHK000123~",
                "REF*1K*PCN0000003~",
                "REF*EJ*PAID-0003~",
                "DTP*472*RD8*20260410-20260412~",
            ],
        )
        .golden(),
        case(
            "277_denied",
            claim_276("REF*EJ*DENY-0004~"),
            &["STC*F2:88:IL*20260310**75*0*20260310~"],
        )
        .golden(),
        case(
            "277_not_found",
            claim_276("REF*EJ*NO-SUCH-CLAIM~DTP*472*D8*20260501~"),
            &[
                "TRN*2*CLAIMTRACE1~",
                "STC*A4:35*20260615~",
                "REF*EJ*NO-SUCH-CLAIM~",
                "DTP*472*D8*20260501~",
            ],
        )
        .absent(&["REF*1K*"])
        .golden(),
        case(
            "277_several_claims",
            request_276(
                HOSPITAL,
                "DMG*D8*19880808*F~NM1*IL*1*MCO*MARIA****MI*100000000004~\
                 TRN*1*MULTITRACE~DTP*472*RD8*20260201-20260228~",
                None,
            ),
            &[
                "TRN*2*MULTITRACE~",
                "STC*F1:65*20260301**100*80*20260301**20260303*EFT0000777~",
                "REF*1K*PCN0000006~",
                "TRN*2*MULTITRACE~",
                "STC*F1:65*20260301**250*200*20260301**20260303*EFT0000777~",
                "REF*1K*PCN0000007~",
            ],
        )
        .golden(),
        case(
            "277_two_inquiries_in_one_request",
            claim_276("REF*EJ*RECV-0001~TRN*1*CLAIMTRACE2~REF*EJ*DENY-0004~"),
            &[
                "TRN*2*CLAIMTRACE1~",
                "REF*EJ*RECV-0001~",
                "TRN*2*CLAIMTRACE2~",
                "STC*F2:88:IL*",
            ],
        ),
        case(
            "277_other_providers_claim_not_shown",
            claim_276("REF*1K*PCN0000005~"),
            &["STC*A4:35*20260615~"],
        )
        .absent(&["REF*1K*PCN0000005"]),
        case(
            "277_provider_not_authorized",
            claim_276("REF*EJ*RECV-0001~"),
            &["STC*E4:562:1P*20260615~"],
        )
        .absent(&["REF*1K*"])
        .authorized(&["440033445D"]),
        case(
            "277_provider_inactive",
            request_276(
                "NM1*1P*2*CLOSED CLINIC*****SV*330022334C~",
                &format!("{JANE_276}TRN*1*CLAIMTRACE1~REF*EJ*RECV-0001~"),
                None,
            ),
            &["STC*E0:562:1P*20260615~"],
        ),
        case(
            "277_dependent",
            request_276(
                HOSPITAL,
                "NM1*IL*1*DOE*JANE****MI*100000000001~",
                Some("DMG*D8*20150202*M~NM1*QC*1*DOE*TIMMY~TRN*1*KIDTRACE~REF*EJ*CHILD-0008~"),
            ),
            &[
                "HL*4*3*22*1~",
                "HL*5*4*23~",
                "NM1*QC*1*DOE*TIMMY~",
                "TRN*2*KIDTRACE~",
                "STC*A2:20*20260521**90~",
                "REF*1K*PCN0000008~",
            ],
        ),
    ]
}

async fn run_cases<D: PlanData + Sync>(store: &D, cases: Vec<Case>, expect_kind: AnswerKind) {
    let mut failures = Vec::new();
    for c in cases {
        let mut ctx = context();
        ctx.authorized_providers = c
            .authorized
            .map(|ids| ids.iter().map(|s| s.to_string()).collect());
        let request_report = hts_gateway::x12::validate(&c.request);
        assert!(
            request_report.accepted(),
            "{}: the request itself is invalid: {}",
            c.name,
            request_report.verdict_line()
        );
        let answer = respond(&c.request, store, &ctx)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let text = String::from_utf8(answer.bytes.clone()).unwrap();
        let flat = text.replace('\n', "");
        if answer.kind != expect_kind {
            failures.push(format!("{}: answered with {:?}", c.name, answer.kind));
            continue;
        }
        // Every answer must pass the engine's own 271/277 validation.
        let check = hts_gateway::x12::validate(&answer.bytes);
        if !check.accepted() {
            failures.push(format!(
                "{}: the answer is invalid: {}\n{text}",
                c.name,
                check.verdict_line()
            ));
        }
        let mut from = 0;
        for e in c.expect {
            match flat[from..].find(e) {
                Some(i) => from += i + e.len(),
                None => {
                    failures.push(format!("{}: missing (in order) {e:?}\n{text}", c.name));
                    break;
                }
            }
        }
        for a in c.absent {
            if flat.contains(a) {
                failures.push(format!("{}: must not contain {a:?}\n{text}", c.name));
            }
        }
        if c.golden {
            let path = common::root().join(format!("tests/golden/plan/{}.x12", c.name));
            if std::env::var_os("UPDATE_GOLDEN").is_some() {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &text).unwrap();
            } else {
                let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                    panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display())
                });
                if want != text {
                    failures.push(format!(
                        "{}: differs from {}\n--- got\n{text}--- want\n{want}",
                        c.name,
                        path.display()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

on_both_backends!(eligibility_271, |store: Store| async move {
    common::db::load_demo(&store).await;
    run_cases(&store, cases_271(), AnswerKind::Eligibility).await;
    // The same answers through the cache the gateway puts in front of the store: twice, so
    // the second round is served from it.
    let cached = CachedPlan::new(store);
    run_cases(&cached, cases_271(), AnswerKind::Eligibility).await;
    run_cases(&cached, cases_271(), AnswerKind::Eligibility).await;
});

on_both_backends!(claim_status_277, |store: Store| async move {
    common::db::load_demo(&store).await;
    run_cases(&store, cases_277(), AnswerKind::ClaimStatus).await;
    let cached = CachedPlan::new(store);
    run_cases(&cached, cases_277(), AnswerKind::ClaimStatus).await;
});

/// Richard (…002) has inactive coverage in the demo data; this file makes it active.
fn reactivate_richard() -> String {
    let columns = FileKind::Members.columns();
    let row = |values: &[(&str, &str)]| {
        columns
            .iter()
            .map(|c| values.iter().find(|v| v.0 == *c).map_or("", |v| v.1))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "{}\n{}\n{}\n",
        columns.join(","),
        row(&[
            ("record", "member"),
            ("member_id", "100000000002"),
            ("last_name", "ROE"),
            ("first_name", "RICHARD"),
            ("birth_date", "1970-11-30"),
            ("gender", "M"),
        ]),
        row(&[
            ("record", "coverage"),
            ("member_id", "100000000002"),
            ("start_date", "2026-01-01"),
            ("end_date", "2099-12-31"),
            ("status", "active"),
            ("plan_name", "REINSTATED PLAN"),
        ]),
    )
}

async fn richard<D: PlanData + Sync>(data: &D) -> String {
    let request = sub_270("NM1*IL*1*ROE*RICHARD****MI*100000000002~EQ*30~");
    let answer = respond(&request, data, &context()).await.unwrap();
    String::from_utf8(answer.bytes).unwrap()
}

on_both_backends!(cache_follows_loads, |store: Store| async move {
    common::db::load_demo(&store).await;
    // Checks the generation on every call: sees a load at once.
    let eager = CachedPlan::with_limits(store.clone(), Duration::ZERO, 1000);
    // Checks once an hour: keeps serving what it read until invalidated.
    let lazy = CachedPlan::with_limits(store.clone(), Duration::from_secs(3600), 1000);
    // A tiny capacity still answers correctly (it starts over when full).
    let tiny = CachedPlan::with_limits(store.clone(), Duration::ZERO, 2);
    run_cases(&tiny, cases_271(), AnswerKind::Eligibility).await;
    assert!(richard(&eager).await.contains("EB*6*IND*30~"));
    assert!(richard(&lazy).await.contains("EB*6*IND*30~"));
    load_members(&store, reactivate_richard().as_bytes())
        .await
        .unwrap();
    assert!(
        richard(&eager)
            .await
            .contains("EB*1*IND*30*MC*REINSTATED PLAN~"),
        "a load moves the generation; the cache drops what it held"
    );
    assert!(richard(&lazy).await.contains("EB*6*IND*30~"));
    lazy.invalidate();
    assert!(
        richard(&lazy)
            .await
            .contains("EB*1*IND*30*MC*REINSTATED PLAN~")
    );
});

on_both_backends!(bad_x12_gets_999, |store: Store| async move {
    let mut request = sub_270("NM1*IL*1*DOE*JANE****MI*100000000001~EQ*30~");
    // Break the SE count: the set is rejected, so the answer is a 999, not a 271.
    let text = String::from_utf8(request.clone())
        .unwrap()
        .replace("SE*", "SE*9");
    request = text.into_bytes();
    let answer = respond(&request, &store, &context()).await.unwrap();
    assert_eq!(answer.kind, AnswerKind::Acknowledgment);
    let ack = String::from_utf8(answer.bytes).unwrap();
    assert!(ack.contains("ST*999*"), "{ack}");
    assert!(ack.contains("IK5*R*4"), "{ack}");
    assert!(ack.contains("AK9*R*1*1*0"), "{ack}");

    // Backwards date ranges are invalid dates to the engine (999 IK403 8), so they never
    // reach the responders' own AAA 57 / E0:187 checks.
    for request in [
        sub_270("NM1*IL*1*DOE*JANE****MI*100000000001~DTP*291*RD8*20260610-20260601~EQ*30~"),
        claim_276("REF*EJ*RECV-0001~DTP*472*RD8*20260510-20260501~"),
    ] {
        let answer = respond(&request, &store, &context()).await.unwrap();
        assert_eq!(answer.kind, AnswerKind::Acknowledgment);
        let ack = String::from_utf8(answer.bytes).unwrap();
        assert!(ack.contains("IK4*3*1251*8*"), "{ack}");
    }
});

on_both_backends!(
    garbage_and_wrong_types_are_refused,
    |store: Store| async move {
        let err = respond(b"hello, not x12", &store, &context())
            .await
            .unwrap_err();
        assert!(matches!(err, RespondError::NotX12), "{err}");
        let claim = std::fs::read(common::root().join("fixtures/x12/837P_two_claims.x12")).unwrap();
        let err = respond(&claim, &store, &context()).await.unwrap_err();
        assert!(matches!(err, RespondError::Unsupported(_)), "{err}");
        assert!(err.to_string().contains("270"), "{err}");
    }
);
