//! Criterion: decoding and encoding a 2,000-VM `RetrievePropertiesExResponse`, beside quick-xml's
//! bare tokenizing of the same bytes.

mod fixture;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use esx_vim::codec::soap::{decode_response, encode_response};
use esx_vim::RetrievePropertiesExResponse;

fn bench(c: &mut Criterion) {
    let doc = fixture::retrieve_properties_response(2000);
    let value = decode_response::<RetrievePropertiesExResponse>(&doc)
        .expect("decodes")
        .expect("no fault");
    let mut g = c.benchmark_group("retrieve_properties_ex_2000_vms");
    g.throughput(Throughput::Bytes(doc.len() as u64));
    g.sample_size(10);
    g.bench_function("quick_xml_tokenize", |b| {
        b.iter(|| {
            let mut r = quick_xml::Reader::from_reader(&doc[..]);
            loop {
                match r.read_event() {
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(e) => {
                        std::hint::black_box(e);
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        })
    });
    g.bench_function("decode", |b| {
        b.iter(|| decode_response::<RetrievePropertiesExResponse>(&doc))
    });
    g.bench_function("encode", |b| {
        b.iter(|| encode_response("RetrievePropertiesEx", &value))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
