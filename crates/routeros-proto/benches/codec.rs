//! Codec throughput: encoding and decoding sentences, in MB/s.
//! `cargo bench -p routeros-proto --bench codec`

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use routeros_proto::{Sentence, SentenceDecoder};

/// A realistic reply: an `/interface/print` row with counters.
fn interface_row(i: usize) -> Sentence {
    let mut s = Sentence::new();
    s.push("!re");
    for (k, v) in [
        (".id", format!("*{i:X}")),
        ("name", format!("ether{i}")),
        ("type", "ether".into()),
        ("mtu", "1500".into()),
        ("mac-address", "48:8F:5A:00:00:01".into()),
        ("rx-byte", "123456789012".into()),
        ("tx-byte", "98765432109".into()),
        ("rx-packet", "1234567".into()),
        ("tx-packet", "7654321".into()),
        ("running", "true".into()),
        ("disabled", "false".into()),
        ("comment", "uplink to the core, leave alone".into()),
    ] {
        s.push(format!("={k}={v}"));
    }
    s.push(".tag=42");
    s
}

fn bench(c: &mut Criterion) {
    let rows: Vec<Sentence> = (0..1000).map(interface_row).collect();
    let mut wire = Vec::new();
    for r in &rows {
        r.encode(&mut wire);
    }
    let mut g = c.benchmark_group("codec");
    g.throughput(Throughput::Bytes(wire.len() as u64));
    g.bench_function("encode 1000 interface rows", |b| {
        let mut out = Vec::with_capacity(wire.len());
        b.iter(|| {
            out.clear();
            for r in &rows {
                r.encode(&mut out);
            }
            std::hint::black_box(&out);
        })
    });
    g.bench_function("decode 1000 interface rows", |b| {
        b.iter(|| {
            let mut dec = SentenceDecoder::default();
            let mut buf = BytesMut::from(&wire[..]);
            let mut n = 0;
            while let Some(s) = dec.decode(&mut buf).unwrap() {
                n += s.words().len();
            }
            std::hint::black_box(n);
        })
    });
    g.bench_function("decode in 1460-byte TCP segments", |b| {
        b.iter(|| {
            let mut dec = SentenceDecoder::default();
            let mut buf = BytesMut::new();
            let mut n = 0;
            for seg in wire.chunks(1460) {
                buf.extend_from_slice(seg);
                while let Some(s) = dec.decode(&mut buf).unwrap() {
                    n += s.words().len();
                }
            }
            std::hint::black_box(n);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
