// A program the fake compiler treats as the line below says.
// FAKE: unlocated
int main() { return 0; }
