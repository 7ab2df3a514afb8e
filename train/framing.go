package train

import "image"

// Framing turns a decoded photo into the picture the network is to see (before resizing),
// say by finding and aligning the face, and may return a note worth telling the user, such as
// "2 faces found: matched the largest". Nil framing takes the centre square of the photo.
type Framing func(image.Image) (framed image.Image, note string, err error)
