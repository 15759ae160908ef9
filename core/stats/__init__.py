"""Statistics: CCC, agreement between raters, consensus and trace agreement."""
