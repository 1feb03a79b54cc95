//! Round trips against the real kernel, each in its own anonymous namespace. Skipped (with a
//! message) when not root; under CI=true that skip is a failure.

use serde_json::{json, Value};
use tenus_core::batch::{Item, Items, ReadContext, OP_CODES};
use tenus_core::link::kind::ParseContext;
use tenus_core::{Error, Handle, LinkChange, LinkRef, LinkSpec, Namespace};

fn privileged() -> bool {
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("kernel tests need root (CAP_NET_ADMIN) and CI=true forbids skipping them");
    }
    eprintln!("skipped: kernel tests need root (CAP_NET_ADMIN)");
    false
}

async fn lab() -> Handle {
    Handle::open(Namespace::create_anonymous().await.unwrap())
        .await
        .unwrap()
}

/// Peers for specs parsed on their own: `peerNetns: n` is `peers[n]`.
struct Peers(Vec<Namespace>);

impl ParseContext for Peers {
    fn peer(&mut self, _: &str, index: u32) -> tenus_core::Result<Namespace> {
        Ok(self.0[index as usize].clone())
    }
}

/// A link spec as JavaScript gives it: a kind and a JSON object of options.
fn spec(kind: &str, options: Value) -> LinkSpec {
    LinkSpec::from_json(kind, options, &mut Peers(vec![])).unwrap()
}

/// A batch item's wire code.
fn code(op: &str) -> u8 {
    OP_CODES.iter().find(|(n, _)| *n == op).unwrap().1
}

/// Items as JavaScript sends them, `[[code, ...arguments], ...]`, for `h`'s namespace.
fn items(h: &Handle, items: Vec<Value>) -> Vec<tenus_core::Result<Item>> {
    let mut cx = ReadContext::new(vec![h.namespace().clone()]);
    Items::parse(&Value::Array(items).to_string(), &mut cx)
        .unwrap()
        .items
}

#[tokio::test]
async fn bridge_create_get_list_change_delete() {
    if !privileged() {
        return;
    }
    let h = lab().await;
    let rec = h
        .link_add(spec("bridge", json!({"name": "br0", "mtu": 1400, "group": 7})))
        .await
        .unwrap();
    assert_eq!(rec.name, "br0");
    assert_eq!(rec.kind.as_deref(), Some("bridge"));
    assert_eq!(rec.mtu, Some(1400));
    assert_eq!(rec.group, 7);
    let listed = h.link_list().await.unwrap();
    assert_eq!(
        listed.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        vec!["lo", "br0"]
    );
    let change = LinkChange {
        up: Some(true),
        alias: Some("lab bridge".into()),
        ..Default::default()
    };
    h.link_set(&LinkRef::Name("br0".into()), &change).await.unwrap();
    let rec = h.link_get(&LinkRef::Index(rec.index)).await.unwrap();
    assert!(rec.up);
    assert_eq!(rec.alias.as_deref(), Some("lab bridge"));
    h.link_del(&LinkRef::Name("br0".into())).await.unwrap();
    let err = h.link_get(&LinkRef::Name("br0".into())).await.unwrap_err();
    assert_eq!(err.errno(), Some(libc::ENODEV), "{err}");
}

#[tokio::test]
async fn kernel_errors_carry_errno_and_extended_ack() {
    if !privileged() {
        return;
    }
    let h = lab().await;
    h.link_add(spec("bridge", json!({"name": "br0"}))).await.unwrap();
    let err = h
        .link_add(spec("bridge", json!({"name": "br0"})))
        .await
        .unwrap_err();
    match &err {
        Error::Kernel { errno, op, link, .. } => {
            assert_eq!(*errno, libc::EEXIST);
            assert_eq!(op, "link.add");
            assert_eq!(link.as_deref(), Some("br0"));
        }
        other => panic!("expected a kernel error, got {other:?}"),
    }
    // An MTU the bridge refuses comes back with the kernel's own explanation.
    let err = h
        .link_set(
            &LinkRef::Name("br0".into()),
            &LinkChange {
                // Not checked here: `LinkChange` holds values already read (LinkChange::parse).
                mtu: Some(65536),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Kernel { extack: Some(t), .. } if !t.is_empty()),
        "{err:?}"
    );
}

#[tokio::test]
async fn veth_peer_born_in_another_namespace_and_addresses() {
    if !privileged() {
        return;
    }
    let (a, b) = (lab().await, lab().await);
    let veth = LinkSpec::from_json(
        "veth",
        json!({"name": "veth-h", "peer": "eth1", "peerNetns": 1}),
        &mut Peers(vec![a.namespace().clone(), b.namespace().clone()]),
    )
    .unwrap();
    let rec = a.link_add(veth).await.unwrap();
    assert_eq!(rec.kind.as_deref(), Some("veth"));
    let peer = b.link_get(&LinkRef::Name("eth1".into())).await.unwrap();
    assert_eq!(peer.kind.as_deref(), Some("veth"));
    b.addr_add(&LinkRef::Name("eth1".into()), "10.9.0.2/24", false)
        .await
        .unwrap();
    b.addr_add(&LinkRef::Name("eth1".into()), "fd00::2/64", false)
        .await
        .unwrap();
    let addrs = b.addr_list(Some(&LinkRef::Name("eth1".into()))).await.unwrap();
    let cidrs: Vec<&str> = addrs.iter().map(|a| a.cidr.as_str()).collect();
    assert!(
        cidrs.contains(&"10.9.0.2/24") && cidrs.contains(&"fd00::2/64"),
        "{cidrs:?}"
    );
    b.addr_del(&LinkRef::Name("eth1".into()), "10.9.0.2/24")
        .await
        .unwrap();
    assert!(b
        .addr_list(None)
        .await
        .unwrap()
        .iter()
        .all(|a| a.cidr != "10.9.0.2/24"));
    // Move the host end over too, renaming it on the way.
    a.link_move(&LinkRef::Name("veth-h".into()), &b, Some("eth2"))
        .await
        .unwrap();
    assert!(b.link_get(&LinkRef::Name("eth2".into())).await.is_ok());
    assert_eq!(a.link_list().await.unwrap().len(), 1);
}

mod batch {
    use super::*;
    use tenus_core::batch::{BatchOptions, OnError, Outcome};

    /// A pair whose peer is born in the batch's other namespace: items after it name the peer
    /// there (it was looked up, missing, before the batch ran); a failure later in the batch
    /// takes the pair away.
    #[tokio::test]
    async fn items_name_a_peer_born_in_another_namespace() {
        if !privileged() {
            return;
        }
        let (a, b) = (lab().await, lab().await);
        let handles = [a.clone(), b.clone()];
        let run = |extra: Vec<Value>| {
            let mut doc = vec![
                json!([code("link.add"), "veth", {"name": "h0", "peer": "p0", "peerNetns": 1, "up": true}]),
                json!([255, 1]),
                address("p0", "10.9.1.2/24"),
                json!([code("link.set"), "p0", {"up": true}]),
            ];
            doc.extend(extra);
            let mut cx = ReadContext::new(vec![a.namespace().clone(), b.namespace().clone()]);
            let items = Items::parse(&Value::Array(doc).to_string(), &mut cx)
                .unwrap()
                .items;
            let handles = handles.clone();
            async move {
                let options = BatchOptions {
                    on_error: OnError::Rollback,
                    ..Default::default()
                };
                tenus_core::batch::run(&handles, items, &options, &|_, _| {}).await
            }
        };
        // A failing last item: everything is undone, the pair included.
        let report = run(vec![address("nonexistent0", "10.9.9.9/24")]).await;
        assert!(
            matches!(report.outcomes[3], Outcome::Failed(_)),
            "{:?}",
            report.outcomes
        );
        assert!(b.link_get(&LinkRef::Name("p0".into())).await.is_err());
        assert!(a.link_get(&LinkRef::Name("h0".into())).await.is_err());
        // Then for real.
        let report = run(vec![]).await;
        assert!(
            report.outcomes.iter().all(|o| *o == Outcome::Done),
            "{:?}",
            report.outcomes
        );
        let p0 = b.link_get(&LinkRef::Name("p0".into())).await.unwrap();
        assert!(p0.up);
        let addrs = b.addr_list(Some(&LinkRef::Index(p0.index))).await.unwrap();
        assert!(addrs.iter().any(|x| x.cidr == "10.9.1.2/24"), "{addrs:?}");
    }

    fn veth(i: usize, group: u32) -> Value {
        json!([code("link.add"), "veth", {"name": format!("v{i}a"), "peer": format!("v{i}b"), "group": group}])
    }

    fn address(link: &str, cidr: &str) -> Value {
        json!([code("address.add"), link, cidr])
    }

    #[tokio::test]
    async fn pipelined_links_and_addresses_with_per_item_errors() {
        if !privileged() {
            return;
        }
        let h = lab().await;
        let mut ops = vec![json!([code("link.add"), "bridge", {"name": "br0"}])];
        ops.extend((0..50).map(|i| veth(i, 7)));
        // Attach to a bridge the batch itself made: its index is looked up when first needed.
        ops.push(json!([code("link.set"), "v0a", {"master": "br0", "up": true}]));
        ops.extend((0..200).map(|i| address("br0", &format!("10.1.{}.{}/32", i / 250, i % 250 + 1))));
        // A duplicate address fails alone.
        ops.push(address("br0", "10.1.0.1/32"));
        let seen = std::sync::atomic::AtomicUsize::new(0);
        let report = h
            .batch(items(&h, ops), &BatchOptions::default(), &|done, _| {
                seen.store(done, std::sync::atomic::Ordering::Relaxed);
            })
            .await;
        let last = report.outcomes.len() - 1;
        assert!(
            report.outcomes[..last].iter().all(|o| *o == Outcome::Done),
            "{:?}",
            report.outcomes
        );
        assert!(
            matches!(&report.outcomes[last], Outcome::Failed(Error::Kernel { errno, op, .. }) if *errno == libc::EEXIST && op == "address.add")
        );
        assert_eq!(seen.into_inner(), report.outcomes.len());
        let links = h.link_list().await.unwrap();
        assert_eq!(links.len(), 1 + 1 + 100);
        let br = links.iter().find(|l| l.name == "br0").unwrap();
        assert_eq!(
            links.iter().find(|l| l.name == "v0a").unwrap().master,
            Some(br.index)
        );
        assert_eq!(
            h.addr_list(Some(&LinkRef::Name("br0".into())))
                .await
                .unwrap()
                .len(),
            200
        );
        // One request deletes the 50 pairs that carry group 7.
        h.link_del_group(7).await.unwrap();
        assert_eq!(h.link_list().await.unwrap().len(), 2);
    }

    /// What a rollback batch's last change reads for its undo, counted in requests: only its
    /// object when it is applied or refused whole (not what the kernel changes with it), and
    /// what it changes is put back from that read when a read after it fails.
    #[tokio::test]
    async fn the_last_change_reads_only_its_object() {
        if !privileged() {
            return;
        }
        let h = lab().await;
        h.link_add(spec("veth", json!({"name": "r0", "peer": "r1", "up": true})))
            .await
            .unwrap();
        let options = BatchOptions {
            on_error: OnError::Rollback,
            ..Default::default()
        };
        let requests = |ops: Vec<Value>| {
            let (h, options) = (h.clone(), options.clone());
            async move {
                let before = h.connection().requests();
                let report = h.batch(items(&h, ops), &options, &|_, _| {}).await;
                assert!(
                    report.outcomes.iter().all(|o| *o == Outcome::Done),
                    "{:?}",
                    report.outcomes
                );
                h.connection().requests() - before
            }
        };
        let down = json!([code("link.set"), "r0", {"up": false}]);
        let get = json!([code("link.get"), "r0"]);
        // Alone, and followed by a read (a chain's read-back): the link read with it (not the
        // routes and neighbours a down takes), the change, and the read.
        assert_eq!(requests(vec![down.clone()]).await, 2);
        assert_eq!(requests(vec![down.clone(), get.clone()]).await, 3);
        // An address names its link by index: the name is looked up first; an addition's undo
        // needs no read.
        assert_eq!(requests(vec![address("r0", "10.4.0.1/24")]).await, 2);
        // A deletion reads the link's addresses (not the routes they take).
        let delete = json!([code("address.delete"), "r0", "10.4.0.1/24"]);
        assert_eq!(requests(vec![delete]).await, 3);
        // Before another change, its undo may run: what it changes is read first.
        let up = json!([code("link.set"), "r0", {"up": true}]);
        let mtu = json!([code("link.set"), "r0", {"mtu": 1400}]);
        assert!(requests(vec![up, mtu]).await > 2);
        // Two attributes may fail half-applied: read even when last.
        let both = json!([code("link.set"), "r0", {"mtu": 1300, "alias": "x"}]);
        assert!(requests(vec![both]).await > 1);
        // A read after the last change fails: the change is undone from the link read with it.
        let up = json!([code("link.set"), "r0", {"up": true}]);
        assert_eq!(requests(vec![up]).await, 2);
        let missing = json!([code("link.get"), "nope0"]);
        let report = h
            .batch(items(&h, vec![down, missing]), &options, &|_, _| {})
            .await;
        assert_eq!(report.outcomes[0], Outcome::Undone);
        assert!(matches!(report.outcomes[1], Outcome::Failed(_)));
        assert!(report.undo_errors.is_empty(), "{:?}", report.undo_errors);
        let r0 = h.link_get(&LinkRef::Name("r0".into())).await.unwrap();
        assert!(r0.up);
    }

    #[tokio::test]
    async fn rollback_undoes_what_the_batch_made_and_changed() {
        if !privileged() {
            return;
        }
        let h = lab().await;
        h.link_add(spec("bridge", json!({"name": "keep0", "mtu": 1500})))
            .await
            .unwrap();
        let mut ops: Vec<Value> = (0..20).map(|i| veth(i, 0)).collect();
        ops.push(address("keep0", "10.2.0.1/24"));
        // A change to a link that was there before: put back from what was read before it.
        ops.push(json!([code("link.set"), "keep0", {"mtu": 1400, "alias": "changed"}]));
        ops.push(json!([code("link.add"), "bridge", {"name": "keep0"}])); // EEXIST
        ops.extend((20..30).map(|i| veth(i, 0)));
        let options = BatchOptions {
            on_error: OnError::Rollback,
            ..Default::default()
        };
        let report = h.batch(items(&h, ops), &options, &|_, _| {}).await;
        assert!(report.undo_errors.is_empty(), "{:?}", report.undo_errors);
        assert!(
            report.outcomes[..22].iter().all(|o| *o == Outcome::Undone),
            "{:?}",
            report.outcomes
        );
        assert!(matches!(
            report.outcomes[22],
            Outcome::Failed(Error::Kernel {
                errno: libc::EEXIST,
                ..
            })
        ));
        // Items already in flight when the failure came back ran and were undone; the rest never ran.
        assert!(report.outcomes[23..]
            .iter()
            .all(|o| matches!(o, Outcome::NotRun | Outcome::Undone)));
        let names: Vec<String> = h.link_list().await.unwrap().into_iter().map(|l| l.name).collect();
        assert_eq!(names, vec!["lo", "keep0"]);
        let keep = h.link_get(&LinkRef::Name("keep0".into())).await.unwrap();
        assert_eq!((keep.mtu, keep.alias), (Some(1500), None));
        assert!(h
            .addr_list(Some(&LinkRef::Name("keep0".into())))
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn an_invalid_item_stops_a_rollback_batch_before_anything_is_sent() {
        if !privileged() {
            return;
        }
        let h = lab().await;
        let ops = vec![
            veth(0, 0),
            json!([code("link.add"), "bridge", {"name": "br0", "mtu": 10}]),
        ];
        let report = h
            .batch(
                items(&h, ops),
                &BatchOptions {
                    on_error: OnError::Rollback,
                    ..Default::default()
                },
                &|_, _| {},
            )
            .await;
        assert_eq!(report.outcomes[0], Outcome::NotRun);
        assert!(
            matches!(&report.outcomes[1], Outcome::Failed(Error::InvalidArgument { arg, .. }) if arg == "mtu")
        );
        assert_eq!(h.link_list().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn delete_links_by_temporary_group() {
        if !privileged() {
            return;
        }
        let h = lab().await;
        let ops: Vec<Value> = (0..40).map(|i| veth(i, 0)).collect();
        h.batch(items(&h, ops), &BatchOptions::default(), &|_, _| {})
            .await;
        let doomed: Vec<LinkRef> = (0..40)
            .step_by(2)
            .map(|i| LinkRef::Name(format!("v{i}a")))
            .collect();
        h.delete_links(&doomed).await.unwrap();
        let left = h.link_list().await.unwrap();
        assert_eq!(left.len(), 1 + 40, "20 pairs of 40 remain");
        assert!(left.iter().all(|l| l.group == 0));
    }
}

/// The listing's direct reader and netlink-packet-route's full decoder agree on every link.
#[tokio::test]
async fn fast_link_reader_matches_the_full_decoder() {
    use netlink_packet_route::{link::LinkMessage, RouteNetlinkMessage};
    use tenus_core::link::fast;
    use tenus_core::message::{decode, encode, Flags};
    if !privileged() {
        return;
    }
    let h = lab().await;
    h.link_add(spec("bridge", json!({"name": "br0", "up": true})))
        .await
        .unwrap();
    h.link_add(spec(
        "veth",
        json!({"name": "v0", "peer": "v1", "master": "br0", "group": 3, "mtu": 1400}),
    ))
    .await
    .unwrap();
    h.link_add(spec(
        "macvtap",
        json!({"name": "mt0", "parent": "v1", "mode": "vepa"}),
    ))
    .await
    .unwrap();
    h.link_add(spec(
        "vxlan",
        json!({"name": "vx0", "vni": 42, "port": 4789, "remote": "10.0.0.2"}),
    ))
    .await
    .unwrap();
    h.link_set(
        &LinkRef::Name("v1".into()),
        &LinkChange {
            alias: Some("peer end".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let raw = h
        .dump(
            "test",
            encode(RouteNetlinkMessage::GetLink(LinkMessage::default()), Flags::Dump),
        )
        .await
        .unwrap();
    assert_eq!(raw.len(), 6);
    for bytes in &raw {
        let RouteNetlinkMessage::NewLink(m) = decode("test", bytes).unwrap() else {
            panic!("not a link")
        };
        assert_eq!(
            fast::read_link(bytes).unwrap(),
            tenus_core::LinkRecord::from_message(&m)
        );
    }
}

/// Dumps share the socket one at a time; concurrent listings must all come back.
#[tokio::test]
async fn concurrent_listings_all_resolve() {
    if !privileged() {
        return;
    }
    let h = lab().await;
    h.link_add(spec("bridge", json!({"name": "br0"}))).await.unwrap();
    h.addr_add(&LinkRef::Name("br0".into()), "10.0.0.1/24", false)
        .await
        .unwrap();
    for _ in 0..20 {
        let (a, b, c, d) = tokio::join!(h.link_list(), h.addr_list(None), h.link_list(), h.addr_list(None));
        assert_eq!(a.unwrap().len(), 2);
        assert_eq!(b.unwrap().len(), c.unwrap().len() - 1);
        assert_eq!(d.unwrap().len(), 1);
    }
}

/// A listing streamed in parts (JSON written straight from the kernel's messages) has the same
/// links, in the same order, with the same JSON, as a whole one serialised from its records; a
/// listing without stats has none.
#[tokio::test]
async fn streamed_listing_matches_the_whole_one() {
    if !privileged() {
        return;
    }
    let h = lab().await;
    let ops = (0..400)
        .map(|i| json!([code("link.add"), "veth", {"name": format!("va{i}"), "peer": format!("vb{i}")}]))
        .collect();
    h.batch(items(&h, ops), &Default::default(), &|_, _| {}).await;
    for stats in [true, false] {
        let whole = h.link_list_with(stats).await.unwrap();
        assert_eq!(whole.len(), 801);
        assert!(whole.iter().all(|l| l.stats.is_some() == stats));
        let mut parts = Vec::new();
        h.link_list_parts(stats, |attempt, json| parts.push((attempt, json)))
            .await
            .unwrap();
        assert!(
            parts.len() >= 3,
            "801 links come in several parts, got {}",
            parts.len()
        );
        let last = parts.last().unwrap().0;
        let streamed: Vec<Value> = parts
            .iter()
            .filter(|(attempt, _)| *attempt == last)
            .flat_map(|(_, json)| serde_json::from_str::<Vec<Value>>(json).unwrap())
            .collect();
        // The links are down and idle: their counters do not move between the two dumps.
        assert_eq!(
            streamed,
            serde_json::to_value(&whole).unwrap().as_array().unwrap().clone()
        );
    }
    // One link read as JSON written from its message is its record's JSON, text for text.
    for link in [LinkRef::Name("va7".into()), LinkRef::Name("lo".into())] {
        let json = h.link_get_json(&link).await.unwrap();
        let record = h.link_get(&link).await.unwrap();
        assert_eq!(json, serde_json::to_string(&record).unwrap());
    }
}
