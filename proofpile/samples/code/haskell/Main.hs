-- | A tiny HTTP health check with no mathematics.
module Main (main) where

import Network.HTTP.Simple (httpNoBody, getResponseStatusCode, parseRequest)
import System.Exit (exitFailure)

main :: IO ()
main = do
  req <- parseRequest "http://localhost:8080/health"
  res <- httpNoBody req
  if getResponseStatusCode res == 200 then putStrLn "ok" else exitFailure
