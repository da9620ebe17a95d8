package graphtest

import "io"

// Chunks returns a reader of body that hands out at most n bytes per Read, as a network
// connection does, so that a decoder reading a body as it arrives is tested and measured on the
// same cuts everywhere.
func Chunks(body []byte, n int) io.Reader { return &chunkReader{b: body, n: n} }

type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), r.n)], r.b)
	r.b = r.b[k:]
	return k, nil
}
