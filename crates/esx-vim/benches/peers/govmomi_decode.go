// Decodes and re-encodes a RetrievePropertiesExResponse envelope with govmomi's own SOAP
// decoder (vim25/xml with types.TypeFunc), printing MB/s: the peer figure beside
// `cargo run --release -p esx-vim --example codec-figures`.
//
// Built by benches/peers/run.sh against the govmomi source that ../shared/peers/setup-peers.sh
// unpacks (GOPATH mode, offline).
package main

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

func median(v []float64) float64 { sort.Float64s(v); return v[len(v)/2] }

func main() {
	doc, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	mb := float64(len(doc)) / 1e6
	var dec, enc []float64
	var body methods.RetrievePropertiesExBody
	for i := 0; i < 5; i++ {
		body = methods.RetrievePropertiesExBody{}
		t := time.Now()
		d := xml.NewDecoder(bytes.NewReader(doc))
		d.TypeFunc = types.TypeFunc()
		if err := d.Decode(&soap.Envelope{Body: &body}); err != nil {
			panic(err)
		}
		dec = append(dec, time.Since(t).Seconds())
	}
	if body.Res == nil || body.Res.Returnval == nil {
		panic("no result decoded")
	}
	n := len(body.Res.Returnval.Objects)
	for i := 0; i < 5; i++ {
		t := time.Now()
		out, err := xml.Marshal(soap.Envelope{Body: &body})
		if err != nil {
			panic(err)
		}
		_ = out
		enc = append(enc, time.Since(t).Seconds())
	}
	fmt.Printf("govmomi decode: %7.1f MB/s (%d objects)\n", mb/median(dec), n)
	fmt.Printf("govmomi encode: %7.1f MB/s\n", mb/median(enc))
}
