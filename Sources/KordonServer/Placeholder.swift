// placeholder until the server lands
enum KordonServerPlaceholder {}
