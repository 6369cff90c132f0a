"""Qt widgets that show and edit the document beside the canvas."""
