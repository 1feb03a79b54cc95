//! Routing rules as the watcher follows them: RTNLGRP_IPV4_RULE and RTNLGRP_IPV6_RULE. A rule
//! has no identity but what it says (the kernel deletes the rule that matches a request in
//! every field given), so the key is the whole record but `detached`: the kernel sets and
//! clears that without a word as a link its `iif`/`oif` names comes and goes, which the watcher
//! infers (it follows links: `fallout.rs`). Rules identical in every field are one object
//! (`ip rule add` sends NLM_F_EXCL, so only other tools make such twins).

use crate::rule::encode::{dump_request, read_rule_message, RuleRecord, RTM_DELRULE, RTM_NEWRULE};
use crate::watch::object::{Object, Read};
use crate::watch::objects::Names;

const RTNLGRP_IPV4_RULE: u32 = 8;
const RTNLGRP_IPV6_RULE: u32 = 19;

pub struct Rules;

impl Object for Rules {
    const NAME: &'static str = "rule";
    const GROUPS: &'static [u32] = &[RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE];
    const TYPES: &'static [u16] = &[RTM_NEWRULE, RTM_DELRULE];
    // `iif` and `oif` name links: whether they exist says whether the rule is detached.
    const NAMES_LINKS: bool = true;

    /// The record as JSON: equal records, equal keys.
    type Key = String;
    type Record = RuleRecord;
    type Js = RuleRecord;

    /// `ip rule show`, both families.
    fn dump() -> Vec<u8> {
        dump_request(None)
    }

    fn read(msg: &[u8], _: &Names) -> Option<Read<String, RuleRecord>> {
        let record = read_rule_message(msg)?.record();
        let key = RuleRecord {
            detached: None,
            ..record.clone()
        };
        Some(Read {
            key: serde_json::to_string(&key).ok()?,
            record,
            gone: crate::nla::message_type(msg)? == RTM_DELRULE,
        })
    }

}
