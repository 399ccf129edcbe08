// A program the fake compiler treats as the line below says.
// FAKE: hang
int main() { return 0; }
