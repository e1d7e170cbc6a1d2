[
  "red", "green", "blue", "cyan", "magenta", "yellow",
  "black", "white", "gray", "orange", "purple", "brown"
]
