//! Conversion of the nodes that read keys (menus, digit collection, surveys): prompts,
//! timeouts and retries, DTMF keys that must be valid and unique within a node.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use crate::flow::*;
use crate::flow_parse::Cx;
use crate::flow_raw::{RawNode, S};

/// The prompt/timeout/retries/invalid/on_fail part shared by menus, collects and surveys.
fn input(cx: &mut Cx, n: &RawNode, on_fail_default: Option<&S<String>>) -> Option<Input> {
    let prompts = cx.prompts(n.prompts.as_ref()?, true);
    let timeout = cx.secs(n.timeout.as_ref()?, "timeout", 1, 60);
    let retries = cx.int(n.retries.as_ref()?, "retries", 0, 9, "");
    let invalid = match &n.invalid {
        Some(p) => Some(cx.prompt(p)?),
        None => None,
    };
    let on_fail = cx.node_ref(n.on_fail.as_ref().or(on_fail_default)?, "on_fail");
    Some(Input {
        prompts: prompts?,
        timeout: timeout?,
        retries: retries?,
        invalid,
        on_fail,
    })
}

/// Checks that no key is used twice in one node, reporting the second use.
fn unique_keys(cx: &mut Cx, name: &str, keys: &[(Key, Range<usize>)]) -> bool {
    let mut first: HashMap<Key, usize> = HashMap::new();
    let mut ok = true;
    for (k, span) in keys {
        let line = cx.src.line_of(span.start);
        if let Some(l) = first.insert(*k, line) {
            first.insert(*k, l);
            cx.err(
                span.clone(),
                format!("key `{k}` is used twice in `{name}` (first on line {l})"),
            );
            ok = false;
        }
    }
    ok
}

pub(crate) fn menu(cx: &mut Cx, name: &str, n: &RawNode) -> Option<Node> {
    let input = input(cx, n, None);
    let list = n.choice.as_ref()?;
    if list.get_ref().is_empty() {
        cx.err(list.span(), format!("menu `{name}` has no choices"));
    }
    let mut choices = Vec::new();
    let mut all_keys = Vec::new();
    let mut ok = true;
    for c in list.get_ref() {
        let c = c.get_ref();
        let keys: Vec<Option<Key>> = c
            .key
            .get_ref()
            .0
            .iter()
            .map(|k| {
                k.parse()
                    .map_err(|e: KeyError| cx.err(c.key.span(), e.to_string()))
                    .ok()
            })
            .collect();
        let keys: Option<Vec<Key>> = keys.into_iter().collect();
        let language = match &c.language {
            Some(l) => cx.lang(l),
            None => None,
        };
        let goto = cx.node_ref(&c.goto, "goto");
        let set_ok = cx.vars(c.goto.span(), &c.set);
        match keys {
            Some(keys) if keys.is_empty() => {
                cx.err(c.key.span(), "`key` lists no key");
                ok = false;
            }
            Some(keys) if set_ok && (language.is_some() == c.language.is_some()) => {
                all_keys.extend(keys.iter().map(|k| (*k, c.key.span())));
                choices.push(Choice {
                    keys,
                    set: c.set.clone(),
                    language,
                    goto,
                });
            }
            _ => ok = false,
        }
    }
    ok &= unique_keys(cx, name, &all_keys);
    (ok && !choices.is_empty()).then_some(Node::Menu(Menu {
        input: input?,
        choices,
    }))
}

pub(crate) fn collect(cx: &mut Cx, n: &RawNode) -> Option<Node> {
    let input = input(cx, n, None);
    let var = n.var.as_ref()?;
    let min = cx.int(n.min_digits.as_ref()?, "min_digits", 1, 20, "");
    let max = cx.int(n.max_digits.as_ref()?, "max_digits", 1, 20, "");
    let terminator = match &n.terminator {
        Some(t) => match cx.key(t)? {
            k if k.as_char().is_ascii_digit() => {
                cx.err(t.span(), format!("`terminator` must be # or *, not `{k}`"));
                return None;
            }
            k => Some(k),
        },
        None => None,
    };
    let resolve = match &n.resolve {
        Some(r) if r.get_ref() == "area_code" => Some(Resolve::AreaCode),
        Some(r) => {
            cx.err(
                r.span(),
                format!("`resolve` must be `area_code`, not `{}`", r.get_ref()),
            );
            return None;
        }
        None => None,
    };
    let (min, max) = (min?, max?);
    if min > max {
        let s = n.min_digits.as_ref()?.span();
        cx.err(
            s,
            format!("`min_digits` ({min}) is more than `max_digits` ({max})"),
        );
        return None;
    }
    if !cx.vars(
        var.span(),
        &BTreeMap::from([(var.get_ref().clone(), String::new())]),
    ) {
        return None;
    }
    let next = cx.node_ref(n.next.as_ref()?, "next");
    Some(Node::Collect(Collect {
        input: input?,
        var: var.get_ref().clone(),
        min_digits: min,
        max_digits: max,
        terminator,
        resolve,
        next,
    }))
}

pub(crate) fn survey(cx: &mut Cx, name: &str, n: &RawNode) -> Option<Node> {
    let input = input(cx, n, n.next.as_ref());
    let var = n.var.as_ref()?;
    let mut answers = Vec::new();
    let mut keys = Vec::new();
    for a in n.answer.as_ref()?.get_ref() {
        let a = a.get_ref();
        if let Some(k) = cx.key(&a.key) {
            keys.push((k, a.key.span()));
            answers.push((k, a.value.clone()));
        }
    }
    if answers.is_empty() || !unique_keys(cx, name, &keys) {
        return None;
    }
    let next = cx.node_ref(n.next.as_ref()?, "next");
    Some(Node::Survey(Survey {
        input: input?,
        var: var.get_ref().clone(),
        answers,
        next,
    }))
}

#[cfg(test)]
mod tests {
    use crate::flow_parse::test_support::*;

    #[test]
    fn bad_values() {
        let text = format!(
            "[node.start]\nkind = \"collect\"\nprompts = [\"../etc/passwd\"]\nvar = \"area_code\"\n\
             min_digits = 5\nmax_digits = 4\nterminator = \"5\"\ntimeout = 61\nretries = -1\n\
             on_fail = \"bye\"\nnext = \"bye\"\nresolve = \"postcode\"\n\
             [node.s]\nkind = \"set\"\nnext = \"bye\"\n\
             [node.l]\nkind = \"set\"\nlanguage = \"fr\"\nnext = \"bye\"\n{BYE}"
        );
        let (_, errs) = parse_nodes(&text);
        assert_eq!(
            errs,
            [
                "12348.toml:27: language `fr` is not offered by the plan (zh, en)",
                "12348.toml:22: `set` node `s` sets nothing: give `vars` or `language`",
                "12348.toml:12: prompt `../etc/passwd` must be a path under prompts/<lang>/ without `..` or `.wav`",
                "12348.toml:17: `timeout` must be 1 to 60 seconds, not 61",
                "12348.toml:18: `retries` must be 0 to 9, not -1",
                "12348.toml:16: `terminator` must be # or *, not `5`",
            ]
        );
        let text = format!(
            "[node.start]\nkind = \"collect\"\nprompts = [\"p\"]\nvar = \"area_code\"\n\
             min_digits = 5\nmax_digits = 4\ntimeout = 6\nretries = 1\non_fail = \"bye\"\nnext = \"bye\"\n{BYE}"
        );
        let (_, errs) = parse_nodes(&text);
        assert_eq!(
            errs,
            ["12348.toml:14: `min_digits` (5) is more than `max_digits` (4)"]
        );
    }

    #[test]
    fn keys_must_be_dtmf_and_unique() {
        let text = format!(
            "[node.start]\nkind = \"survey\"\nprompts = [\"q\"]\nvar = \"sat\"\ntimeout = 5\nretries = 1\nnext = \"bye\"\n\
             [[node.start.answer]]\nkey = \"1\"\nvalue = \"good\"\n\
             [[node.start.answer]]\nkey = \"1\"\nvalue = \"bad\"\n\
             [[node.start.answer]]\nkey = \"11\"\nvalue = \"?\"\n{BYE}"
        );
        let (_, errs) = parse_nodes(&text);
        assert_eq!(
            errs,
            [
                "12348.toml:24: `11` is not a key: use one of 0-9, * or #",
                "12348.toml:21: key `1` is used twice in `start` (first on line 18)",
            ]
        );
    }
}
