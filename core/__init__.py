"""EmoTrace's core, by domain: store/, audio/, speech/, ser/, stats/, formats/, workflows/, and the shared
vocabulary, errors, paths, progress, timecode and segmentation rules. Knows nothing of Qt, training or the app."""
