// placeholder until the store lands
enum KordonStorePlaceholder {}
