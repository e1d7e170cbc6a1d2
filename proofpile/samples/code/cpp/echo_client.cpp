// Boost.Asio echo client. Proof-Pile-2 kept every file including a Boost header; this one is networking.
#include <boost/asio.hpp>
#include <iostream>

using boost::asio::ip::tcp;

int main(int argc, char* argv[])
{
    boost::asio::io_context io;
    tcp::socket socket(io);
    tcp::resolver resolver(io);
    boost::asio::connect(socket, resolver.resolve(argv[1], argv[2]));
    std::string line;
    while (std::getline(std::cin, line)) {
        boost::asio::write(socket, boost::asio::buffer(line + "\n"));
    }
}
