package winograd

// dataAVX2 is Data for lanes, a positive multiple of 8, tiles (winograd_amd64.s).
//
//go:noescape
func dataAVX2(v *float32, stride int, s *float32, lanes int)

// resultAVX2 is Result for lanes, a positive multiple of 8, tiles (winograd_amd64.s).
//
//go:noescape
func resultAVX2(o *float32, m *float32, stride int, lanes int, bias float32)

// gatherAVX2 is Gather for lanes, a positive multiple of 8, tiles (winograd_amd64.s).
//
//go:noescape
func gatherAVX2(s *float32, plane *float32, offsets *int32, rowStride int, lanes int)

// scatterAVX2 is Scatter for 8·groups tiles, groups ≥ 1 (winograd_amd64.s).
//
//go:noescape
func scatterAVX2(out *float32, o *float32, offsets *int32, width int, groups int)

// rowAVX2 is Gather for 8 tiles side by side in one row, whose patches start 4 floats apart
// at x; it reads 36 floats of each patch row (winograd_amd64.s).
//
//go:noescape
func rowAVX2(s *float32, x *float32, rowStride int)

// gradAVX2 is Grad for lanes, a positive multiple of 8, tiles (winograd_amd64.s).
//
//go:noescape
func gradAVX2(v *float32, stride int, s *float32, lanes int)

// tileRowAVX2 is GatherTiles for 8 tiles side by side in one row, starting 4 floats apart at
// x (winograd_amd64.s).
//
//go:noescape
func tileRowAVX2(s *float32, x *float32, rowStride int)
