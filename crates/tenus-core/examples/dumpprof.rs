use netlink_packet_route::{link::LinkMessage, RouteNetlinkMessage};
use std::time::Instant;
use tenus_core::batch::{BatchOp, BatchOptions};
use tenus_core::link::veth::VethSpec;
use tenus_core::message::{encode, Flags};
use tenus_core::{Handle, KindSpec, LinkSpec, Namespace};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let h = Handle::open(Namespace::create_anonymous().await.unwrap())
        .await
        .unwrap();
    let ops = (0..1000)
        .map(|i| {
            let mut s = LinkSpec::new(KindSpec::Veth(VethSpec {
                peer: Some(format!("v{i}b")),
                ..Default::default()
            }));
            s.common.name = Some(format!("v{i}a"));
            BatchOp::AddLink(s)
        })
        .collect();
    h.batch(ops, &BatchOptions::default(), &|_, _| {}).await;
    for _ in 0..3 {
        let t = Instant::now();
        let raw = h
            .dump(
                "x",
                encode(RouteNetlinkMessage::GetLink(LinkMessage::default()), Flags::Dump),
            )
            .await
            .unwrap();
        let t_raw = t.elapsed();
        let bytes: usize = raw.iter().map(|m| m.len()).sum();
        let t = Instant::now();
        let mut n = 0;
        let mut recs = Vec::new();
        for m in &raw {
            if let Some(r) = tenus_core::link::fast::read_link(m) {
                recs.push(r);
                n += 1;
            }
        }
        let t2 = std::time::Instant::now();
        let json = serde_json::to_string(&recs).unwrap();
        println!("json {:?} {} KB", t2.elapsed(), json.len() / 1024);
        println!(
            "raw dump {:?} ({} msgs, {} KB), decode+record {:?} ({n})",
            t_raw,
            raw.len(),
            bytes / 1024,
            t.elapsed()
        );
    }
}
